"""The settings table as the Settings page and API show it (derived from settings.SETTINGS)."""

from __future__ import annotations

from ..settings import BY_NAME, Settings, parse_value

SHORT_LENGTH = 48  # longer values are cut, the full text stays in the cell's title


def shorten(value: str, limit: int = SHORT_LENGTH) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def rows(s: Settings) -> list[dict]:
    """Every setting, secrets masked (Settings.rows), with where its value came from."""
    out = []
    for row in s.rows():
        out.append(
            {
                **row,
                "short_value": shorten(row["value"]),
                "short_default": shorten(row["default"]),
                "is_default": s[row["name"]] == parse_value(BY_NAME[row["name"]], row["default"]),
            }
        )
    return out


def by_category(s: Settings) -> list[tuple[str, list[dict]]]:
    """[(category, rows)] in the table's order."""
    groups: dict[str, list[dict]] = {}
    for row in rows(s):
        groups.setdefault(row["category"], []).append(row)
    return list(groups.items())
