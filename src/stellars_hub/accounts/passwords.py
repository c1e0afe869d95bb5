"""Memorable generated passwords: words from xkcdpass's maintained default list (EFF's long
list), chosen with the operating system's secure random source."""

from __future__ import annotations

import functools

import bcrypt
from xkcdpass import xkcd_password

# letters only: the delimiter then splits a password back into its words unambiguously
# (the list's few hyphenated words, such as "t-shirt", are left out)
LETTERS_ONLY = "[a-z]"


@functools.lru_cache(maxsize=1)
def words() -> tuple[str, ...]:
    """xkcdpass's default list with its default word lengths (5 to 9 letters)."""
    return tuple(
        sorted(xkcd_password.generate_wordlist(wordfile=xkcd_password.locate_wordfile(), valid_chars=LETTERS_ONLY))
    )


def generate(count: int, delimiter: str = "-", min_length: int = 0) -> str:
    """``count`` random words joined by ``delimiter``; more words while shorter than ``min_length``."""
    while True:
        password = xkcd_password.generate_xkcdpassword(list(words()), numwords=count, delimiter=delimiter)
        if len(password) >= min_length:
            return password
        count += 1


def hash_password(password: str) -> bytes:
    """bcrypt hash as bytes: NativeAuthenticator's column is binary and compares bytes."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt())
