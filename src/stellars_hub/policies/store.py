"""Where policies live: in JupyterHub's own group properties (``orm.Group.properties``, key
``stellars_policy``), so they follow the group through JupyterHub's API and database. The two
built-in groups carry their privilege by name, whatever is stored, so a property edit in the
admin panel cannot turn ``docker-sock`` into an ordinary group.

Users' own variables are kept in the platform's own SQLite file (``environment.sqlite``), not in
the hub's user model: JupyterHub shows ``user_info`` to anyone who may read the user's name.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable
from pathlib import Path

from jupyterhub import orm

from ..admin import DOCKER_PRIVILEGED, DOCKER_SOCK
from ..storage import Store, Stores, process_stores, transaction
from .model import PolicyError

KEY = "stellars_policy"
BUILT_IN = {DOCKER_SOCK: {"docker_sock": True}, DOCKER_PRIVILEGED: {"privileged": True}}


def stored(group) -> dict:
    return dict((group.properties or {}).get(KEY) or {})


def read(group) -> dict | None:
    """The group's policy with its built-in privilege, or None when it has none."""
    policy = {**stored(group), **BUILT_IN.get(group.name, {})}
    return policy or None


def write(db, group, policy: dict) -> None:
    props = dict(group.properties or {})
    props[KEY] = policy  # a new dict: the JSON column notices replacement, not mutation
    group.properties = props
    db.commit()


def check_conflicts(db, group_name: str, policy: dict) -> None:
    """Refuse a policy that gives a variable or mount target another group gives differently
    (any two groups may share a member tomorrow), naming both groups."""
    for other in db.query(orm.Group).order_by(orm.Group.name):
        if other.name == group_name:
            continue
        theirs = stored(other)
        for name, value in policy.get("env", {}).items():
            if name in theirs.get("env", {}) and theirs["env"][name] != value:
                raise PolicyError(
                    f"env.{name}",
                    f"group {other.name} already sets {name} to a different value; "
                    f"groups {group_name} and {other.name} would give members two values",
                )
        their_mounts = {m["target"]: m for m in theirs.get("mounts", [])}
        for i, mount in enumerate(policy.get("mounts", [])):
            seen = their_mounts.get(mount["target"])
            if seen and seen["source"] != mount["source"]:
                raise PolicyError(
                    f"mounts[{i}].target",
                    f"group {other.name} mounts {seen['source']} at {mount['target']}; "
                    f"groups {group_name} and {other.name} would mount two sources there",
                )


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
    """Users' own variables (validated before they get here) and when each user was last warned
    about their quota. Every method queues its work on the file's thread and answers an awaitable."""

    FILE_NAME = "environment.sqlite"
    MIGRATIONS = (
        "CREATE TABLE IF NOT EXISTS user_environment (username TEXT PRIMARY KEY, env TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS quota_warned (username TEXT PRIMARY KEY, warned_at REAL NOT NULL)",
    )

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


def store_for(data_dir, stores: Stores | None = None) -> PolicyStore:
    """The process's store in the platform's data directory."""
    return (stores or process_stores()).open(PolicyStore, Path(data_dir) / PolicyStore.FILE_NAME)
