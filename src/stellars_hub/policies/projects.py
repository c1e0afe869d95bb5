"""Group project folders: a group's own volume, mounted in every member's lab at
``/mnt/groups/<group>`` read-write, and read-only in the labs of the group's viewers (a second
group) where one is set. An admin creates it on the Policies page; it is measured with every
volume, backed up with the users' volumes, and never removed silently: a deleted group's folder
is kept (listed as kept, still backed up, mounted by nobody) until an admin removes it.

A folder belongs to its group by the group's id, as a policy does: a new group under a deleted
one's name gets a folder (and volume) of its own, never the kept files. Records live in the
policies' store (``environment.sqlite``, table ``project_folders``); the volume is
``jupyterhub-group-<escaped group>_project`` (``-x<n>`` before ``_project`` when a kept folder
has the name), a Kubernetes claim ``jupyterhub-group-<escaped group>-project`` that must be
ReadWriteMany. Both names start like the hub's own, so no policy can mount them.
"""

from __future__ import annotations

import re
import sqlite3
import time

from .. import naming
from ..errors import BadRequest, Conflict
from ..storage import transaction
from .model import PROJECTS_MOUNT

VOLUME_PREFIX = "jupyterhub-group-"
VOLUME_SUFFIX = "_project"
# a group name that is also a usable folder name in the lab
FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# the content of a fresh folder belongs to whoever writes it: every lab's user may create files
# in it (labs run one non-root user; viewers get it read-only whatever the mode)
FOLDER_MODE = "0777"
TABLE = (
    "CREATE TABLE project_folders (volume TEXT PRIMARY KEY, group_name TEXT NOT NULL, "
    "group_id INTEGER, viewers TEXT, viewers_id INTEGER, created REAL NOT NULL, created_by TEXT NOT NULL, "
    "kept_since REAL)",  # group_id NULL: the group is gone and the folder kept
)
COLUMNS = ("volume", "group_name", "group_id", "viewers", "viewers_id", "created", "created_by", "kept_since")


def volume_name(group: str, n: int = 1) -> str:
    base = VOLUME_PREFIX + naming.escape_name(group)
    return f"{base}{naming.GENERATION_MARK}{n}{VOLUME_SUFFIX}" if n > 1 else base + VOLUME_SUFFIX


def target(group: str) -> str:
    return f"{PROJECTS_MOUNT}/{group}"


def check_group_name(group: str) -> None:
    if not FOLDER_NAME.match(group) or group in (".", ".."):
        raise BadRequest(
            f"group: {group!r} cannot be a folder name in the lab ({PROJECTS_MOUNT}/<group>): letters, digits, "
            ". _ - (at most 64, not starting with . _ -); create a group with such a name for the project"
        )


def mounts_for(groups: dict[str, int], folders: list[dict]) -> list[dict]:
    """The project folders a member of ``groups`` (name -> id) mounts: read-write in their own
    groups', read-only in those whose viewers they are (read-write wins)."""
    ids = set(groups.items())
    mine = [f for f in folders if f["group_id"] is not None and (f["group_name"], f["group_id"]) in ids]
    viewing = [
        f
        for f in folders
        if f["group_id"] is not None and f["viewers"] and (f["viewers"], f["viewers_id"]) in ids and f not in mine
    ]
    found = [{**_mount(f), "mode": "rw"} for f in mine] + [{**_mount(f), "mode": "ro"} for f in viewing]
    return sorted(found, key=lambda m: m["target"])


def _mount(folder: dict) -> dict:
    return {"group": folder["group_name"], "source": folder["volume"], "target": target(folder["group_name"])}


# -- the store's side (the policies' file thread) ------------------------------------------------
def folders(db: sqlite3.Connection) -> list[dict]:
    rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM project_folders ORDER BY group_name, created")
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows]


def create(db: sqlite3.Connection, folder: dict) -> dict:
    """Record a new folder, unless its group has one (Conflict) or the volume name is taken."""
    with transaction(db):
        for row in folders(db):
            if row["group_id"] == folder["group_id"] and row["group_name"] == folder["group_name"]:
                raise Conflict(f"group {folder['group_name']} already has its project folder {row['volume']}")
            if row["volume"] == folder["volume"]:
                raise Conflict(f"volume {folder['volume']} is already a project folder; try again")
        db.execute(
            f"INSERT INTO project_folders ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            tuple(folder[c] for c in COLUMNS),
        )
    return folder


def set_viewers(db: sqlite3.Connection, group_name: str, group_id: int, viewers, viewers_id) -> dict | None:
    """Change the viewers of a group's folder; the folder before the change (None: it has none)."""
    with transaction(db):
        row = next((r for r in folders(db) if (r["group_name"], r["group_id"]) == (group_name, group_id)), None)
        if row is not None:
            db.execute(
                "UPDATE project_folders SET viewers = ?, viewers_id = ? WHERE volume = ?",
                (viewers, viewers_id, row["volume"]),
            )
    return row


def keep_orphans(db: sqlite3.Connection, groups: dict[str, int]) -> list[dict]:
    """Folders of groups that are gone (or whose name a new group took) become kept; viewers
    that are gone are forgotten. The folders kept now."""
    now, kept = time.time(), []
    with transaction(db):
        for row in folders(db):
            if row["group_id"] is not None and groups.get(row["group_name"]) != row["group_id"]:
                db.execute(
                    "UPDATE project_folders SET group_id = NULL, viewers = NULL, viewers_id = NULL, kept_since = ? "
                    "WHERE volume = ?",
                    (now, row["volume"]),
                )
                kept.append(row)
            elif row["viewers"] and groups.get(row["viewers"]) != row["viewers_id"]:
                db.execute(
                    "UPDATE project_folders SET viewers = NULL, viewers_id = NULL WHERE volume = ?", (row["volume"],)
                )
    return kept


def forget(db: sqlite3.Connection, volume: str) -> dict | None:
    """Drop a folder's record (its volume is gone); the record."""
    with transaction(db):
        row = next((r for r in folders(db) if r["volume"] == volume), None)
        db.execute("DELETE FROM project_folders WHERE volume = ?", (volume,))
    return row
