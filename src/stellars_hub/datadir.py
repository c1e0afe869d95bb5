"""Which release's data a data directory holds, and refusing one this release cannot read.

The data directory carries ``stellars-data.json``: ``{"layout": N, ...}``, the layout of the
directory (its files, the platform's store schemas, JupyterHub's database schema) that the release
last running on it wrote. A release reads every layout up to its own ``LAYOUT``; it brings an
older one up to date (the stores migrate when opened, once: ``PRAGMA user_version``) and records
its own; a newer one it refuses at start, before anything is opened, with the reason. Directories
written before the file existed are layout 1.

Raise ``LAYOUT`` in a release whose data an older release could not read correctly: a store's
new migration, a file moved or renamed, data moved between files (layout 2: group policies moved
out of JupyterHub's group properties into the policies' store), a JupyterHub upgrade with a new
database schema. Besides the file, every store refuses a file whose ``user_version`` counts more
migrations than it knows (``storage.SQLiteFile``): checked here at start for every store file too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from .storage import Store

LAYOUT = 2
FILE_NAME = "stellars-data.json"
UNVERSIONED = 1  # a data directory of a release before the file existed


class NewerData(Exception):
    """The data directory was written by a newer release."""


def release() -> str:
    from . import __version__

    return __version__


def read_layout(data_dir: str | Path) -> dict | None:
    """The data directory's layout record, or None when it has none (new, or an old release's)."""
    path = Path(data_dir) / FILE_NAME
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        record = json.loads(text)
        int(record["layout"])
    except (ValueError, KeyError, TypeError):
        raise NewerData(f"{path} is not a layout record this release can read ({text[:80]!r})") from None
    return record


def store_classes() -> list[type[Store]]:
    """Every store class this process has imported (each feature's store module is imported with
    the feature's record, before the hub's configuration is applied)."""
    found: list[type[Store]] = []
    todo = list(Store.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.FILE_NAME and cls not in found:
            found.append(cls)
    return found


def check(data_dir: str | Path, stores: Iterable[type[Store]] | None = None) -> int:
    """The directory's layout (``UNVERSIONED`` for an old release's, ``LAYOUT`` for a new one);
    NewerData naming what this release cannot read."""
    data = Path(data_dir)
    record = read_layout(data)
    if record is not None and int(record["layout"]) > LAYOUT:
        raise NewerData(
            f"the data directory {data} was written by a newer release (data layout {record['layout']}, "
            f"release {record.get('release', '?')}); this release ({release()}) reads layouts up to {LAYOUT}. "
            "Run that release again, or restore a backup this release made (stellars-hub restore-state) "
            "onto an empty data directory"
        )
    for cls in stores if stores is not None else store_classes():
        path = data / cls.FILE_NAME
        if not path.is_file():
            continue
        version = _user_version(path)
        if version > len(cls.MIGRATIONS):
            raise NewerData(
                f"{path} was written by a newer release (schema step {version}; this release knows "
                f"{len(cls.MIGRATIONS)}): run that release again, or restore a backup this release made"
            )
    if record is not None:
        return int(record["layout"])
    return UNVERSIONED if any(p.is_file() for p in data.glob("*.sqlite")) else LAYOUT


def record(data_dir: str | Path, was: int) -> None:
    """Write this release's layout into the directory (atomically), noting what it was before."""
    data = Path(data_dir)
    current = read_layout(data)
    if current is not None and int(current["layout"]) == LAYOUT:
        return
    entry = {
        "layout": LAYOUT,
        "release": release(),
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if was != LAYOUT:
        entry["upgraded_from"] = was
    tmp = data / f".{FILE_NAME}.tmp"
    tmp.write_text(json.dumps(entry, indent=1) + "\n")
    os.replace(tmp, data / FILE_NAME)


def open_for_hub(data_dir: str | Path) -> int:
    """At the hub's start: refuse a newer release's directory, record this release's layout;
    the layout found."""
    was = check(data_dir)
    record(data_dir, was)
    return was


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()
