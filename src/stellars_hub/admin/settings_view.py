"""The hub's settings as the Settings page and API show them (``Settings.rows``, derived from
the settings' traits)."""

from __future__ import annotations

from ..settings import Settings

SHORT_LENGTH = 48  # longer values are cut, the full text stays in the cell's title


def shorten(value: str, limit: int = SHORT_LENGTH) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def rows(s: Settings) -> list[dict]:
    """Every setting, secrets masked, with where its value came from."""
    return [{**row, "short_value": shorten(row["value"]), "short_default": shorten(row["default"])} for row in s.rows()]


def by_category(s: Settings) -> list[tuple[str, list[dict]]]:
    """[(category, rows)] in the settings' order."""
    groups: dict[str, list[dict]] = {}
    for row in rows(s):
        groups.setdefault(row["category"], []).append(row)
    return list(groups.items())
