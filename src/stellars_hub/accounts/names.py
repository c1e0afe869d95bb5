"""Which new user names the platform accepts, and why it refuses the others.

Every user gets a container ``jupyterlab-<escaped name>`` and volumes named after it, so a name
must escape to something the engine (and DNS on the lab network) takes, and must not be another
user's name in disguise. The rules apply to new names only (signup, admin creation, rename):
existing users keep working whatever their name.
"""

from __future__ import annotations

import unicodedata

from .. import naming

# a container name is also its DNS name on the lab network: one DNS label, 63 characters
MAX_CONTAINER_NAME = 63
MAX_ESCAPED = MAX_CONTAINER_NAME - len(naming.CONTAINER_PREFIX)
_FORBIDDEN = {",": "commas", "/": "slashes", "\\": "backslashes"}


def problem(name: str) -> str | None:
    """Why ``name`` (already normalised, i.e. lower-cased) cannot be a new user, or None."""
    if not name:
        return "a user name is needed"
    if any(ch.isspace() for ch in name):
        return f"user names cannot contain spaces or other blanks: {name!r}"
    for ch, what in _FORBIDDEN.items():
        if ch in name:
            return f"user names cannot contain {what}: {name!r}"
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        return f"user names cannot contain control or invisible characters: {name!r}"
    if set(name) <= {"."}:
        return f"{name!r} is not a usable user name"
    if unicodedata.normalize("NFC", name) != name:
        return f"{name!r} uses a decomposed Unicode form that looks like another name; type it with composed characters"
    escaped = naming.escape_name(name)
    if len(escaped) > MAX_ESCAPED:
        return (
            f"{name!r} is too long: its container name would have {len(naming.CONTAINER_PREFIX) + len(escaped)} "
            f"characters, at most {MAX_CONTAINER_NAME} fit. Use at most {MAX_ESCAPED} lower-case letters "
            "and digits (every other character takes 3 or more)"
        )
    return None


def collision(name: str, existing: list[str]) -> str | None:
    """Why ``name`` would be mistaken for an existing user's, or None.

    JupyterHub lower-cases names on login and creation, so a stored name that differs only in
    case (from before normalisation, or from a configuration) would be the same person at login
    but a different container and volume set; an equal escaped name would share them outright.
    """
    folded, escaped = name.casefold(), naming.escape_name(name)
    for other in existing:
        if other == name:
            continue
        if other.casefold() == folded:
            return f"{name!r} differs only in letter case from the existing user {other!r}; choose another name"
        if naming.escape_name(other) == escaped:
            return f"{name!r} would share containers and volumes with the existing user {other!r}; choose another name"
    return None
