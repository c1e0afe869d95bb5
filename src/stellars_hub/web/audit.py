"""Audit log: one line per destructive operation (who, on whom, what, outcome).

The file rotates by size (``audit.log``, ``audit.log.1`` ... ``audit.log.<keep>``), so it can
never fill the disk it shares with the hub database. Refusals repeat cheaply (a script hammering
a 429): the first refusal of a kind from one caller is written in full, the ones that follow
within ``SUMMARY_WINDOW`` seconds are counted and written as one summary line at its end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timezone
from logging.handlers import RotatingFileHandler

_log = logging.getLogger("stellars_hub.audit")
_log.propagate = False
_configured: set[str] = set()
SUMMARY_WINDOW = 60.0
_repeats: dict[tuple, dict] = {}  # (actor, action, outcome) -> {"first", "count", "targets"}


def configure(path: str, max_bytes: int = 10 * 1024 * 1024, keep: int = 5) -> None:
    """Send audit lines to ``path`` (once per path) as well as to the hub's log."""
    if path in _configured:
        return
    handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=keep)
    handler.setFormatter(logging.Formatter("%(message)s"))
    _log.addHandler(handler)
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter("[audit] %(message)s"))
    _log.addHandler(stream)
    _log.setLevel(logging.INFO)
    _configured.add(path)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write(entry: dict) -> None:
    _log.info(json.dumps(entry, sort_keys=True, default=str))


def _is_refusal(outcome: str) -> bool:
    return outcome.startswith("refused")


def _flush(key: tuple) -> None:
    seen = _repeats.pop(key, None)
    if seen and seen["count"]:
        actor, action, outcome = key
        _write(
            {
                "time": _now(),
                "actor": actor,
                "target": ",".join(sorted(seen["targets"]))[:500],
                "action": action,
                "outcome": outcome,
                "repeated": seen["count"],
                "since": seen["first"],
            }
        )


def record(actor: str, target: str, action: str, outcome: str, **detail) -> dict:
    entry = {"time": _now(), "actor": actor, "target": target, "action": action, "outcome": outcome, **detail}
    if _is_refusal(outcome):
        key = (actor, action, outcome)
        seen = _repeats.get(key)
        if seen is not None and time.monotonic() - seen["started"] < SUMMARY_WINDOW:
            seen["count"] += 1
            seen["targets"].add(target)
            return entry
        _flush(key)
        _repeats[key] = {"started": time.monotonic(), "first": entry["time"], "count": 0, "targets": set()}
        try:
            asyncio.get_running_loop().call_later(SUMMARY_WINDOW, _flush, key)
        except RuntimeError:
            pass  # no loop: the summary is written with the next refusal of this kind
    _write(entry)
    return entry


def record_for(platform, actor: str, target: str, action: str, outcome: str, **detail) -> dict:
    """One line to the hub's audit log (its data directory, rotation settings) from code that
    runs outside a request (start-up work, pre-spawn steps); handlers use ``StellarsMixin.audit``."""
    from ..hubsettings import StellarsHub

    site = platform.settings(StellarsHub)
    configure(str(platform.audit_path), site.audit_log_max_mb * 1024 * 1024, site.audit_log_keep)
    return record(actor, target, action, outcome, **detail)
