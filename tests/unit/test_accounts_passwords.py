"""Generated passwords and their short-lived in-memory cache."""

import re

import bcrypt

from stellars_hub.accounts import passwords
from stellars_hub.accounts.credentials import CredentialCache


def test_word_list_is_real_and_large():
    words = passwords.words()
    assert len(words) >= 1000
    assert len(set(words)) == len(words)
    assert all(re.fullmatch(r"[a-z]{4,6}", w) for w in words)
    assert {"apple", "ocean", "storm"} <= set(words)


def test_generated_password_shape_and_randomness():
    pw = passwords.generate(4, "-")
    parts = pw.split("-")
    assert len(parts) == 4 and all(p in passwords.words() for p in parts)
    assert len({passwords.generate(4, "-") for _ in range(200)}) == 200
    assert len(passwords.generate(5, "_").split("_")) == 5


def test_generated_password_meets_a_minimum_length():
    pw = passwords.generate(3, ".", min_length=40)
    assert len(pw) >= 40 and all(p in passwords.words() for p in pw.split("."))


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
