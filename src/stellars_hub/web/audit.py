"""Audit log: one line per destructive operation (who, on whom, what, outcome)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

_log = logging.getLogger("stellars_hub.audit")
_log.propagate = False
_configured: set[str] = set()


def configure(path: str) -> None:
    """Send audit lines to ``path`` (once per path) as well as to the hub's log."""
    if path in _configured:
        return
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    _log.addHandler(handler)
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter("[audit] %(message)s"))
    _log.addHandler(stream)
    _log.setLevel(logging.INFO)
    _configured.add(path)


def record(actor: str, target: str, action: str, outcome: str, **detail) -> dict:
    entry = {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "actor": actor,
        "target": target,
        "action": action,
        "outcome": outcome,
        **detail,
    }
    _log.info(json.dumps(entry, sort_keys=True, default=str))
    return entry
