"""Built-in groups whose members' labs get Docker privileges.

- ``docker-sock``: the engine's socket is bind-mounted read-write into the lab, which gives
  the lab control of the whole engine (and so of the host);
- ``docker-privileged``: the lab runs as a privileged container.

The groups are created at start-up (JupyterHub's ``load_groups``) and re-created before every
spawn if an admin deleted them. They are group policies whose privilege comes with the name (the
policies feature): membership is read at every spawn and turned into this start's binds and
host-config, so removing a user from a group removes the privilege at their next start.
"""

from __future__ import annotations

from jupyterhub import orm

DOCKER_SOCK = "docker-sock"
DOCKER_PRIVILEGED = "docker-privileged"

DESCRIPTIONS = {
    DOCKER_SOCK: "Members' labs get the Docker engine socket (read-write): full control of the engine and the host",
    DOCKER_PRIVILEGED: "Members' labs run as privileged containers: all host devices and capabilities",
}


def load_groups() -> dict:
    """For c.JupyterHub.load_groups: the groups exist from the first start (members untouched;
    no properties, which JupyterHub would overwrite at every start, erasing the groups' policies)."""
    return {name: {} for name in DESCRIPTIONS}


def ensure(db, log) -> list[str]:
    """Create any missing built-in group; returns the names created."""
    created = []
    for name, text in DESCRIPTIONS.items():
        if orm.Group.find(db, name) is None:
            db.add(orm.Group(name=name, properties={"description": text}))
            created.append(name)
    if created:
        db.commit()
        log.warning(
            "Built-in group(s) %s were missing (deleted by an admin?); re-created them empty", ", ".join(created)
        )
    return created


def apply_to_spawner(spawner) -> None:
    """Pre-spawn step: the built-in groups exist (their privileges are applied with every other
    group policy by the policies feature's step, which runs after this one)."""
    ensure(spawner.user.db, spawner.log)
