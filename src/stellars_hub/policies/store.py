"""Where policies live: in the platform's own SQLite file (``environment.sqlite``, table
``group_policies``), written only by the policy API. Not in JupyterHub's group properties, where
they lived before: JupyterHub lets a group-filtered scope (``groups!group=team``, a team lead's)
write those, which would bypass the policy API's checks and its audit. Policy keys found in a
group's properties are ignored and reported (``ignored_keys``); at the first start of this version
the policies kept there were taken over once (``import_group_policies``, audited).

A row belongs to one group: its name and its id in the hub's database. The group API's delete
drops it (``groups.py``), and a group created later under that name starts without a policy. The
two built-in groups carry their privilege by name, whatever is stored.

Users' own variables are kept here too, not in the hub's user model: JupyterHub shows
``user_info`` to anyone who may read the user's name.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Awaitable

from ..admin import DOCKER_PRIVILEGED, DOCKER_SOCK
from ..storage import Store, transaction
from . import projects
from .model import FIELDS, PolicyError

KEY = "stellars_policy"  # where a group's policy was kept before (its JupyterHub properties)
BUILT_IN = {DOCKER_SOCK: {"docker_sock": True}, DOCKER_PRIVILEGED: {"privileged": True}}
IMPORTED = "imported-group-properties"  # meta key: the one-time take-over has run


def ignored_keys(group) -> list[str]:
    """Keys of a group's JupyterHub properties that look like a policy: never applied."""
    return sorted(k for k in (group.properties or {}) if k == KEY or k in FIELDS)


def with_built_in(name: str, stored: dict | None) -> dict | None:
    """A group's policy with its built-in privilege, or None when it has none."""
    policy = {**(stored or {}), **BUILT_IN.get(name, {})}
    return policy or None


def check_conflicts(stored: dict[str, dict], group_name: str, policy: dict) -> None:
    """Refuse a policy that gives a variable or mount target another group gives differently
    (any two groups may share a member tomorrow), naming both groups. ``stored``: group name ->
    policy of every other group."""
    for other in sorted(stored):
        if other == group_name:
            continue
        theirs = stored[other]
        for name, value in policy.get("env", {}).items():
            if name in theirs.get("env", {}) and theirs["env"][name] != value:
                raise PolicyError(
                    f"env.{name}",
                    f"group {other} already sets {name} to a different value; "
                    f"groups {group_name} and {other} would give members two values",
                )
        their_mounts = {m["target"]: m for m in theirs.get("mounts", [])}
        for i, mount in enumerate(policy.get("mounts", [])):
            seen = their_mounts.get(mount["target"])
            if seen and seen["source"] != mount["source"]:
                raise PolicyError(
                    f"mounts[{i}].target",
                    f"group {other} mounts {seen['source']} at {mount['target']}; "
                    f"groups {group_name} and {other} would mount two sources there",
                )
    from .profiles import check_conflicts as check_profile_conflicts

    check_profile_conflicts(stored, group_name, policy)


# -- group policies (the writer thread's side) ---------------------------------------------------
def _group_policies(db: sqlite3.Connection) -> dict[str, tuple[int, dict]]:
    return {
        n: (gid, json.loads(p)) for n, gid, p in db.execute("SELECT group_name, group_id, policy FROM group_policies")
    }


def _put_group_policy(
    db: sqlite3.Connection, name: str, group_id: int, policy: dict, groups: dict[str, int], actor: str
) -> dict:
    """Check against the other existing groups' policies and save, in one transaction; the
    policy it replaced. ``groups``: name -> id of every group the hub has."""
    with transaction(db):
        current = {n: p for n, (gid, p) in _group_policies(db).items() if groups.get(n) == gid}
        check_conflicts(current, name, policy)
        db.execute(
            "INSERT INTO group_policies (group_name, group_id, policy, updated, updated_by) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(group_name) DO UPDATE SET group_id = excluded.group_id, policy = excluded.policy, "
            "updated = excluded.updated, updated_by = excluded.updated_by",
            (name, group_id, json.dumps(policy), time.time(), actor),
        )
    return current.get(name, {})


def _forget_groups(db: sqlite3.Connection, groups: dict[str, int]) -> list[str]:
    """Drop the rows of groups that are gone (or whose name a new group took): their names."""
    with transaction(db):
        stale = [n for n, (gid, _p) in _group_policies(db).items() if groups.get(n) != gid]
        db.executemany("DELETE FROM group_policies WHERE group_name = ?", [(n,) for n in stale])
    return stale


def _import_group_policies(db: sqlite3.Connection, found: dict[str, tuple[int, dict]]) -> list[str] | None:
    """Once per file: take over the policies kept in group properties; None when done before."""
    with transaction(db):
        if db.execute("SELECT 1 FROM meta WHERE key = ?", (IMPORTED,)).fetchone():
            return None
        for name, (gid, policy) in found.items():
            db.execute(
                "INSERT OR IGNORE INTO group_policies VALUES (?, ?, ?, ?, ?)",
                (name, gid, json.dumps(policy), time.time(), "(upgrade)"),
            )
        db.execute("INSERT INTO meta VALUES (?, ?)", (IMPORTED, json.dumps(sorted(found))))
    return sorted(found)


def _env(db: sqlite3.Connection, username: str) -> dict:
    row = db.execute("SELECT env FROM user_environment WHERE username = ?", (username,)).fetchone()
    return json.loads(row[0]) if row else {}


def _put_env(db: sqlite3.Connection, username: str, env: dict) -> None:
    if env:
        db.execute(
            "INSERT INTO user_environment (username, env) VALUES (?, ?) "
            "ON CONFLICT(username) DO UPDATE SET env = excluded.env",
            (username, json.dumps(env)),
        )
    else:
        db.execute("DELETE FROM user_environment WHERE username = ?", (username,))


def _warned_at(db: sqlite3.Connection, username: str) -> float:
    row = db.execute("SELECT warned_at FROM quota_warned WHERE username = ?", (username,)).fetchone()
    return row[0] if row else 0.0


def _mark_warned(db: sqlite3.Connection, username: str, when: float) -> None:
    db.execute(
        "INSERT INTO quota_warned VALUES (?, ?) ON CONFLICT(username) DO UPDATE SET warned_at = excluded.warned_at",
        (username, when),
    )


def _rename(db: sqlite3.Connection, old: str, new: str) -> None:
    with transaction(db):
        for table in ("user_environment", "quota_warned"):
            db.execute(f"DELETE FROM {table} WHERE username = ?", (new,))
            db.execute(f"UPDATE {table} SET username = ? WHERE username = ?", (new, old))


def _delete(db: sqlite3.Connection, username: str) -> None:
    with transaction(db):
        for table in ("user_environment", "quota_warned"):
            db.execute(f"DELETE FROM {table} WHERE username = ?", (username,))


class PolicyStore(Store):
    """Group policies (validated before they get here), users' own variables and when each user
    was last warned about their quota. Every method queues its work on the file's thread and
    answers an awaitable."""

    FILE_NAME = "environment.sqlite"
    USER_COLUMNS = (("user_environment", "username"), ("quota_warned", "username"))
    MIGRATIONS = (
        "CREATE TABLE IF NOT EXISTS user_environment (username TEXT PRIMARY KEY, env TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS quota_warned (username TEXT PRIMARY KEY, warned_at REAL NOT NULL)",
        (
            "CREATE TABLE group_policies (group_name TEXT PRIMARY KEY, group_id INTEGER NOT NULL, "
            "policy TEXT NOT NULL, updated REAL NOT NULL, updated_by TEXT NOT NULL)",
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ),
        projects.TABLE,  # group project folders
    )

    def group_policies(self) -> Awaitable[dict[str, tuple[int, dict]]]:
        """group name -> (the group's id, its stored policy)."""
        return self.file.read(_group_policies, default={})

    def put_group_policy(
        self, name: str, group_id: int, policy: dict, groups: dict[str, int], actor: str
    ) -> Awaitable[dict]:
        return self.file.run(_put_group_policy, name, group_id, policy, groups, actor)

    def forget_groups(self, groups: dict[str, int]) -> Awaitable[list[str]]:
        return self.file.run(_forget_groups, groups)

    def import_group_policies(self, found: dict[str, tuple[int, dict]]) -> Awaitable[list[str] | None]:
        return self.file.run(_import_group_policies, found)

    def env(self, username: str) -> Awaitable[dict]:
        return self.file.read(_env, username, default={})

    def put_env(self, username: str, env: dict) -> Awaitable[None]:
        return self.file.run(_put_env, username, env)

    def warned_at(self, username: str) -> Awaitable[float]:
        return self.file.read(_warned_at, username, default=0.0)

    def mark_warned(self, username: str, when: float) -> Awaitable[None]:
        return self.file.run(_mark_warned, username, when)

    def rename_user(self, old: str, new: str) -> Awaitable[None]:
        return self.file.run(_rename, old, new)

    def delete_user(self, username: str) -> Awaitable[None]:
        return self.file.run(_delete, username)

    # -- group project folders (projects.py) --------------------------------------------------
    def project_folders(self) -> Awaitable[list[dict]]:
        return self.file.read(projects.folders, default=[])

    def create_project_folder(self, folder: dict) -> Awaitable[dict]:
        return self.file.run(projects.create, folder)

    def set_project_viewers(self, group_name: str, group_id: int, viewers, viewers_id) -> Awaitable[dict | None]:
        return self.file.run(projects.set_viewers, group_name, group_id, viewers, viewers_id)

    def keep_orphan_projects(self, groups: dict[str, int]) -> Awaitable[list[dict]]:
        return self.file.run(projects.keep_orphans, groups)

    def forget_project_folder(self, volume: str) -> Awaitable[dict | None]:
        return self.file.run(projects.forget, volume)


def store_for(platform) -> PolicyStore:
    """The hub's one store of this file, held by its platform."""
    return platform.stores.of(PolicyStore, platform.data_dir)
