"""Generated passwords and their short-lived in-memory cache."""

import importlib.resources
import math
import re

import bcrypt

from stellars_hub.accounts import passwords
from stellars_hub.accounts.config import Accounts
from stellars_hub.accounts.credentials import CredentialCache


def test_word_list_is_xkcdpass_default_list():
    from xkcdpass import xkcd_password

    words = passwords.words()
    assert len(set(words)) == len(words) > 7000
    assert all(re.fullmatch(r"[a-z]{5,9}", w) for w in words)
    # the library's own default list, with its default lengths, only the hyphenated words left out
    default = set(xkcd_password.generate_wordlist(wordfile=xkcd_password.locate_wordfile()))
    assert set(words) <= default and len(default - set(words)) < 10
    assert not (importlib.resources.files("stellars_hub.accounts") / "words.txt").is_file()


def test_four_words_carry_about_51_bits():
    bits = 4 * math.log2(len(passwords.words()))
    assert 51 <= bits < 52  # the hand-kept list of 1,454 words gave 42
    assert Accounts.password_words.default_value == 4


def test_generated_password_shape_and_randomness():
    pw = passwords.generate(4, "-")
    parts = pw.split("-")
    assert len(parts) == 4 and all(p in passwords.words() for p in parts)
    assert len({passwords.generate(4, "-") for _ in range(200)}) == 200
    assert len(passwords.generate(5, "_").split("_")) == 5
    assert len(passwords.generate(3, "")) >= 15  # no delimiter: the words run together


def test_words_are_spread_over_the_whole_list():
    seen = {w for _ in range(500) for w in passwords.generate(4, " ").split(" ")}
    # 2,000 draws from 7,000+ words: a generator stuck on a small part of the list would repeat
    assert len(seen) > 1500


def test_generated_password_meets_a_minimum_length():
    pw = passwords.generate(3, ".", min_length=60)
    assert len(pw) >= 60 and all(p in passwords.words() for p in pw.split("."))


def test_hash_is_bytes_and_verifies():
    hashed = passwords.hash_password("storm-apple-ocean-lamp")
    assert isinstance(hashed, bytes)
    assert bcrypt.checkpw(b"storm-apple-ocean-lamp", hashed)


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_cache_expires_renames_drops_and_hides_passwords():
    clock = Clock()
    cache = CredentialCache(ttl=300, clock=clock)
    cache.put("ann", "a-b-c-d")
    cache.put("bob", "e-f-g-h")
    assert cache.get(["bob", "ann", "zed", "ann"]) == [
        {"username": "bob", "password": "e-f-g-h", "expires_in": 300},
        {"username": "ann", "password": "a-b-c-d", "expires_in": 300},
    ]
    assert "a-b-c-d" not in repr(cache)
    cache.rename("ann", "anna")
    cache.drop("bob")
    clock.now += 299
    assert [c["username"] for c in cache.get(["ann", "anna", "bob"])] == ["anna"]
    clock.now += 1
    assert cache.get(["anna"]) == [] and len(cache) == 0
