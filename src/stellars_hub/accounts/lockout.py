"""Who is trying to log in, and the lockout after failed logins, keyed by client AND name.

The design (OWASP's "device cookies" scheme for online guessing): failures lock out the pair
(client, name) that made them, so nobody can lock a person out of their own browser or address
by failing logins for their name elsewhere; and failures from clients the name has never logged
in from also lock the name for every such client, so guesses spread over many addresses still
stop after the allowed number. Per address, the throttle's rate limit (429) stops one client
spraying many names.

A client is *known* for a name when it shows the signed device cookie a successful login of that
name set in this browser, or comes from an address that name logged in from in the last 30 days.
Known clients are locked only by their own failures; unknown clients also by the name-wide count.
The name-wide count is NativeAuthenticator's own ``login_attempts`` (same keys, same shape).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from .throttle import MAX_KEYS

DEVICE_COOKIE = "stellars-login-device"
DEVICE_DAYS = 180  # how long a browser stays known after a login
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600
ADDRESSES_PER_NAME = 5


@dataclass(frozen=True)
class LoginClient:
    address: str | None
    device: str | None = None  # the browser's device id, when its cookie names this login's user
    known: bool = False  # the name logged in from this browser or address before

    @property
    def key(self) -> str:
        """What a pair lockout is keyed by: the browser when known by its cookie, else the address."""
        return f"device:{self.device}" if self.device else f"address:{self.address}"


UNKNOWN_CLIENT = LoginClient(None)


def new_device_id() -> str:
    return secrets.token_urlsafe(16)


def device_cookie_value(name: str, device: str) -> str:
    return f"{device}:{name}"


def device_of(cookie: bytes | str | None, name: str) -> str | None:
    """The device id in a (verified) device cookie, when it was set by a login of ``name``."""
    if not cookie:
        return None
    text = cookie.decode() if isinstance(cookie, bytes) else cookie
    device, _, owner = text.partition(":")
    return device if owner == name and device else None


class KnownAddresses:
    """The addresses each name logged in from (the last few per name, for 30 days), in memory."""

    def __init__(self, clock=time.time):
        self._clock = clock
        self._by_name: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()

    def remember(self, name: str, address: str | None) -> None:
        if not address:
            return
        addresses = self._by_name.pop(name, None) or OrderedDict()
        addresses.pop(address, None)
        addresses[address] = self._clock()
        while len(addresses) > ADDRESSES_PER_NAME:
            addresses.popitem(last=False)
        self._by_name[name] = addresses
        while len(self._by_name) > MAX_KEYS:
            self._by_name.popitem(last=False)

    def knows(self, name: str, address: str | None) -> bool:
        addresses = self._by_name.get(name)
        seen = addresses.get(address) if addresses is not None and address else None
        return seen is not None and self._clock() - seen < KNOWN_ADDRESS_SECONDS

    def rename(self, old: str, new: str) -> None:
        addresses = self._by_name.pop(old, None)
        if addresses is not None:
            self._by_name[new] = addresses

    def forget(self, name: str) -> None:
        self._by_name.pop(name, None)


class PairAttempts:
    """Failed logins per (client key, name), in NativeAuthenticator's record shape."""

    def __init__(self):
        self._attempts: OrderedDict[tuple[str, str], dict] = OrderedDict()

    def get(self, client: LoginClient, name: str) -> dict | None:
        return self._attempts.get((client.key, name))

    def add(self, client: LoginClient, name: str) -> None:
        key = (client.key, name)
        record = self._attempts.pop(key, None) or {"count": 0}
        record["count"] += 1
        record["time"] = datetime.now()
        self._attempts[key] = record
        while len(self._attempts) > MAX_KEYS:
            self._attempts.popitem(last=False)

    def clear(self, client: LoginClient, name: str) -> None:
        self._attempts.pop((client.key, name), None)

    def rename(self, old: str, new: str) -> None:
        for key in [k for k in self._attempts if k[1] == old]:
            self._attempts[(key[0], new)] = self._attempts.pop(key)

    def forget(self, name: str) -> None:
        for key in [k for k in self._attempts if k[1] == name]:
            del self._attempts[key]
