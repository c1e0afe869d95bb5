"""Built-in groups whose members' labs get Docker privileges.

- ``docker-sock``: the engine's socket is bind-mounted read-write into the lab, which gives
  the lab control of the whole engine (and so of the host);
- ``docker-privileged``: the lab runs as a privileged container.

The groups are created at start-up (JupyterHub's ``load_groups``) and re-created before every
spawn if an admin deleted them. Membership is read at every spawn and turned into this start's
binds and host-config (StellarsSpawner.start_binds / start_host_config), so removing a user from
a group removes the privilege at their next start.
"""

from __future__ import annotations

from jupyterhub import orm

DOCKER_SOCK = "docker-sock"
DOCKER_PRIVILEGED = "docker-privileged"
ENGINE_SOCKET = "/var/run/docker.sock"  # the host's socket path, mounted at the same place

DESCRIPTIONS = {
    DOCKER_SOCK: "Members' labs get the Docker engine socket (read-write): full control of the engine and the host",
    DOCKER_PRIVILEGED: "Members' labs run as privileged containers: all host devices and capabilities",
}


def load_groups() -> dict:
    """For c.JupyterHub.load_groups: the groups exist from the first start (members untouched)."""
    return {name: {"properties": {"description": text}} for name, text in DESCRIPTIONS.items()}


def ensure(db, log) -> list[str]:
    """Create any missing built-in group; returns the names created."""
    created = []
    for name, text in DESCRIPTIONS.items():
        if orm.Group.find(db, name) is None:
            db.add(orm.Group(name=name, properties={"description": text}))
            created.append(name)
    if created:
        db.commit()
        log.warning("Built-in group(s) %s were missing (deleted by an admin?); re-created them empty",
                    ", ".join(created))
    return created


def grants(db, user_id: int) -> tuple[dict, dict]:
    """(binds, host_config) this user's lab gets from current group membership."""
    binds: dict = {}
    host_config: dict = {}
    for name in DESCRIPTIONS:
        group = orm.Group.find(db, name)
        if group is None or not any(u.id == user_id for u in group.users):
            continue
        if name == DOCKER_SOCK:
            binds[ENGINE_SOCKET] = {"bind": ENGINE_SOCKET, "mode": "rw"}
        elif name == DOCKER_PRIVILEGED:
            host_config["privileged"] = True
    return binds, host_config


def apply_to_spawner(spawner) -> None:
    """Pre-spawn step: groups present, then this start's grants from membership (fresh dicts)."""
    db = spawner.user.db
    ensure(db, spawner.log)
    binds, host_config = grants(db, spawner.user.id)
    spawner.start_binds = binds
    spawner.start_host_config = host_config
    if binds or host_config:
        spawner.log.info("Docker privileges for %s's lab from groups: %s", spawner.user.name,
                         ", ".join(([DOCKER_SOCK] if binds else []) + ([DOCKER_PRIVILEGED] if host_config else [])))
