"""Reading the audit log: the current file and its rotated predecessors, newest entry first,
filtered and paged. Plain file reading, run in a worker thread by the handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FILTERS = ("user", "actor", "action", "outcome")  # user: the entry's target
MAX_LIMIT = 500


@dataclass(frozen=True)
class Query:
    user: str = ""
    actor: str = ""
    action: str = ""
    outcome: str = ""
    offset: int = 0
    limit: int = 50

    def matches(self, entry: dict) -> bool:
        if self.user and self.user not in str(entry.get("target", "")).split(","):
            return False
        if self.actor and entry.get("actor") != self.actor:
            return False
        if self.action and entry.get("action") != self.action:
            return False
        # outcomes carry a status ("refused 429"): a filter of "refused" matches all refusals
        return (
            not self.outcome
            or str(entry.get("outcome", "")).split(" ")[0] == self.outcome
            or entry.get("outcome") == self.outcome
        )


def files(path: Path) -> list[Path]:
    """audit.log.N ... audit.log.1, audit.log: oldest first."""
    rotated = sorted(
        (p for p in path.parent.glob(path.name + ".*") if p.suffix[1:].isdigit()), key=lambda p: -int(p.suffix[1:])
    )
    return rotated + ([path] if path.exists() else [])


def read(path: Path, query: Query) -> dict:
    entries = []
    for f in files(path):
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash: skip it, keep the rest
            if isinstance(entry, dict) and query.matches(entry):
                entries.append(entry)
    entries.reverse()  # newest first
    page = entries[query.offset : query.offset + query.limit]
    return {"events": page, "total": len(entries), "offset": query.offset, "limit": query.limit}
