"""Periods (UTC calendar days, ISO weeks, months, or one range) and the report built from the
store's windows. Pure logic: the handler parses the query, the store's thread runs ``build``."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from .store import Figures, UsageRecords

PERIODS = ("day", "week", "month", "range")
MAX_DAYS = 3660  # a longer range is refused: nobody keeps ten years of samples
DEFAULT_DAYS = 30
COLUMNS = ("lab_hours", "active_hours", "unknown_hours", "starts", "peak_memory_bytes", "cpu_hours", "storage_bytes")


class BadQuery(ValueError):
    """A query parameter is wrong; the message names it."""


@dataclass(frozen=True)
class Period:
    first: date  # first day, inclusive
    last: date  # last day, inclusive

    @property
    def start(self) -> float:
        return epoch(self.first)

    @property
    def end(self) -> float:
        return epoch(self.last + timedelta(days=1))


def epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"{field}: {value!r} is not a date like 2026-11-30") from None


def parse_query(args: dict[str, str], today: date) -> tuple[date, date, str]:
    """(first day, last day, period kind) from ``from``, ``to`` and ``period``."""
    period = args.get("period") or "day"
    if period not in PERIODS:
        raise BadQuery(f"period: {period!r} is not one of {', '.join(PERIODS)}")
    last = parse_day(args["to"], "to") if args.get("to") else today
    first = parse_day(args["from"], "from") if args.get("from") else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise BadQuery(f"from: {first} is after to: {last}")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadQuery(f"to: the range from {first} to {last} is longer than {MAX_DAYS} days")
    return first, last, period


def periods(first: date, last: date, kind: str) -> list[Period]:
    """The range cut into calendar periods (weeks start on Monday), clipped to the range."""
    if kind == "range":
        return [Period(first, last)]
    result = []
    day = first
    while day <= last:
        if kind == "day":
            end = day
        elif kind == "week":
            end = day + timedelta(days=6 - day.weekday())
        else:
            nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            end = nxt - timedelta(days=1)
        end = min(end, last)
        result.append(Period(day, end))
        day = end + timedelta(days=1)
    return result


def _hours(seconds: float) -> float:
    return round(seconds / 3600.0, 4)


def row(fig: Figures | None, unknown_seconds: float) -> dict:
    fig = fig or Figures()
    return {
        "lab_hours": _hours(fig.lab_seconds),
        "active_hours": _hours(fig.active_seconds),
        "unknown_hours": _hours(unknown_seconds),
        "starts": fig.starts,
        "peak_memory_bytes": fig.peak_memory_bytes,
        "cpu_hours": _hours(fig.cpu_seconds),
        "storage_bytes": fig.storage_bytes,
    }


def build(
    store: UsageRecords,
    users: list[str],
    first: date,
    last: date,
    kind: str,
    now: float,
    only_these: bool = False,
    server: str | None = None,
) -> dict:
    """The report: per user, totals over the range and one row per period. The users are
    ``users`` plus (unless ``only_these``) everyone with records in the range, such as users
    deleted since."""

    def unknown(start: float, end: float) -> float:
        end = min(end, now)  # the future is neither known nor unknown
        return max(0.0, (end - start) - store.known_seconds(start, end)) if end > start else 0.0

    cuts = periods(first, last, kind)
    whole = Period(first, last)
    totals = store.window(whole.start, whole.end, server)
    per_period = [(p, store.window(p.start, p.end, server), unknown(p.start, p.end)) for p in cuts]
    names = list(users) if only_these else sorted(set(users) | set(totals))
    whole_unknown = unknown(whole.start, whole.end)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "period": kind,
        "columns": list(COLUMNS),
        "unknown_hours": _hours(whole_unknown),
        "users": [
            {
                "username": name,
                "totals": row(totals.get(name), whole_unknown),
                "periods": [
                    {"start": p.first.isoformat(), "end": p.last.isoformat(), **row(figs.get(name), unk)}
                    for p, figs, unk in per_period
                ],
            }
            for name in names
        ],
    }


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["username", "period_start", "period_end", *COLUMNS])
    for user in report["users"]:
        for p in user["periods"]:
            writer.writerow(
                [
                    spreadsheet_safe(user["username"]),
                    p["start"],
                    p["end"],
                    *("" if p[c] is None else p[c] for c in COLUMNS),
                ]
            )
    return out.getvalue()
