"""Memorable generated passwords: words from a real list, chosen with ``secrets``."""

from __future__ import annotations

import functools
import secrets
from pathlib import Path

import bcrypt

WORDS_FILE = Path(__file__).with_name("words.txt")


@functools.lru_cache(maxsize=1)
def words() -> tuple[str, ...]:
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w for w in (line.strip() for line in lines) if w and not w.startswith("#"))


def generate(count: int, delimiter: str = "-", min_length: int = 0) -> str:
    """``count`` random words joined by ``delimiter``; more words while shorter than ``min_length``."""
    chosen = [secrets.choice(words()) for _ in range(count)]
    while len(delimiter.join(chosen)) < min_length:
        chosen.append(secrets.choice(words()))
    return delimiter.join(chosen)


def hash_password(password: str) -> bytes:
    """bcrypt hash as bytes: NativeAuthenticator's column is binary and compares bytes."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt())
