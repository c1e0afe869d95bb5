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
from contextlib import closing
from pathlib import Path

from jupyterhub import orm

from ..admin.groups import DOCKER_PRIVILEGED, DOCKER_SOCK
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
                raise PolicyError(f"env.{name}", f"group {other.name} already sets {name} to a different value; "
                                  f"groups {group_name} and {other.name} would give members two values")
        their_mounts = {m["target"]: m for m in theirs.get("mounts", [])}
        for i, mount in enumerate(policy.get("mounts", [])):
            seen = their_mounts.get(mount["target"])
            if seen and seen["source"] != mount["source"]:
                raise PolicyError(f"mounts[{i}].target", f"group {other.name} mounts {seen['source']} at {mount['target']}; "
                                  f"groups {group_name} and {other.name} would mount two sources there")


class EnvironmentStore:
    """A user's own environment variables (validated before they get here)."""

    SCHEMA = "CREATE TABLE IF NOT EXISTS user_environment (username TEXT PRIMARY KEY, env TEXT NOT NULL)"

    def __init__(self, path):
        self.path = str(path)

    def _connect(self):
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.execute(self.SCHEMA)
        return conn

    def get(self, username: str) -> dict:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT env FROM user_environment WHERE username = ?", (username,)).fetchone()
        return json.loads(row[0]) if row else {}

    def put(self, username: str, env: dict) -> None:
        with closing(self._connect()) as conn:
            if env:
                conn.execute("INSERT INTO user_environment (username, env) VALUES (?, ?) "
                             "ON CONFLICT(username) DO UPDATE SET env = excluded.env", (username, json.dumps(env)))
            else:
                conn.execute("DELETE FROM user_environment WHERE username = ?", (username,))

    def rename(self, old: str, new: str) -> None:
        with closing(self._connect()) as conn:
            conn.execute("DELETE FROM user_environment WHERE username = ?", (new,))
            conn.execute("UPDATE user_environment SET username = ? WHERE username = ?", (new, old))

    def delete(self, username: str) -> None:
        with closing(self._connect()) as conn:
            conn.execute("DELETE FROM user_environment WHERE username = ?", (username,))


def environment_store(data_dir) -> EnvironmentStore:
    return EnvironmentStore(Path(data_dir) / "environment.sqlite")
