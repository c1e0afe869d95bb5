"""Who a batch affects: the request's targets resolved to servers of hub users (a user's default
server and, with named servers, the others), and per server whether the action applies (a
stopped lab cannot be stopped) or why it is skipped.

A target is (user name, server name), '' being the default server; it is written
``user`` or ``user/server`` (user and server names never contain a slash)."""

from __future__ import annotations

from dataclasses import dataclass

from jupyterhub import orm

ACTIONS = ("stop", "start", "restart")
PHASE = {"stop": "stopping", "start": "starting", "restart": "restarting"}
PAST = {"stop": "stopped", "start": "started", "restart": "restarted"}
MAX_NOTICE = 140
MAX_DELAY = 3600


class BadRequest(ValueError):
    """The body is wrong; the message starts with the field's name."""


class NoSuchGroup(LookupError):
    pass


@dataclass(frozen=True)
class Request:
    action: str
    users: tuple[str, ...] | None = None
    group: str | None = None
    all_running: bool = False
    servers: tuple[tuple[str, str], ...] | None = None  # explicit (user, server) targets
    notice: str | None = None  # notification sent to the running labs first
    delay_seconds: int = 0  # wait after the notification


def parse(body) -> Request:
    if not isinstance(body, dict):
        raise BadRequest("body: expected a JSON object")
    unknown = set(body) - {"action", "users", "group", "all_running", "servers", "notify"}
    if unknown:
        raise BadRequest(f"{sorted(unknown)[0]}: unknown field")
    action = body.get("action")
    if action not in ACTIONS:
        raise BadRequest(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
    chosen = [k for k in ("users", "group", "all_running", "servers") if body.get(k) not in (None, False)]
    if len(chosen) != 1:
        raise BadRequest(
            "users: give exactly one of users (a list of names), group (a name), all_running (true) "
            'or servers (a list like ["ann/gpu", "bob/"])'
        )
    servers = body.get("servers")
    if servers is not None:
        if not isinstance(servers, list) or not servers or not all(isinstance(x, str) for x in servers):
            raise BadRequest('servers: expected a non-empty list like ["ann/gpu", "bob/"]')
        servers = tuple(dict.fromkeys(split(x) for x in servers))
    users = body.get("users")
    if users is not None and (
        not isinstance(users, list) or not users or not all(isinstance(u, str) and u for u in users)
    ):
        raise BadRequest("users: expected a non-empty list of user names")
    group = body.get("group")
    if group is not None and (not isinstance(group, str) or not group):
        raise BadRequest("group: expected a group name")
    if body.get("all_running") not in (None, False, True):
        raise BadRequest("all_running: expected true or false")
    notice, delay = None, 0
    notify = body.get("notify")
    if notify is not None:
        if not isinstance(notify, dict) or set(notify) - {"message", "delay_seconds"}:
            raise BadRequest('notify: expected {"message": text, "delay_seconds": N}')
        notice = notify.get("message")
        if not isinstance(notice, str) or not notice.strip() or len(notice.strip()) > MAX_NOTICE:
            raise BadRequest(f"notify.message: expected 1 to {MAX_NOTICE} characters")
        notice = notice.strip()
        delay = notify.get("delay_seconds", 0)
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= MAX_DELAY:
            raise BadRequest(f"notify.delay_seconds: expected a whole number from 0 to {MAX_DELAY}")
    return Request(
        action,
        tuple(dict.fromkeys(users)) if users else None,
        group,
        body.get("all_running") is True,
        servers,
        notice,
        delay,
    )


def split(text: str) -> tuple[str, str]:
    """``"ann/gpu"`` -> ("ann", "gpu"); ``"ann"`` or ``"ann/"`` -> ("ann", "")."""
    user, _, server = text.partition("/")
    if not user or "/" in server:
        raise BadRequest(f"servers: {text!r} is not a server; write user/server, or user/ for the default one")
    return user, server


def label(user: str, server: str) -> str:
    """How results name a target: the user alone for the default server, else user/server."""
    return f"{user}/{server}" if server else user


def user_servers(user, action: str) -> list[str]:
    """The servers of one chosen user an action is about: a start starts the default server;
    a stop or restart acts on every server of theirs that runs (the default one when none does,
    so the preview says why it is skipped)."""
    if action == "start":
        return [""]
    running = sorted(name for name, orm_spawner in user.orm_spawners.items() if orm_spawner.server is not None)
    return running or [""]


def targets(req: Request, db, users_by_name) -> list[tuple[str, str]]:
    """The (user, server) pairs the request names (sorted, except explicit lists keep their order)."""
    if req.servers is not None:
        found = []
        for name, server in req.servers:
            user = users_by_name(name)
            if user is None:
                raise BadRequest(f"servers: no such user: {name}")
            if server and server not in user.orm_spawners:
                raise BadRequest(f"servers: {name} has no server named {server!r}")
            found.append((name, server))
        return found
    if req.users is not None:
        missing = [n for n in req.users if users_by_name(n) is None]
        if missing:
            raise BadRequest(f"users: no such user: {', '.join(missing)}")
        names = list(req.users)
    elif req.group is not None:
        group = orm.Group.find(db, req.group)
        if group is None:
            raise NoSuchGroup(f"group: no group named {req.group!r}")
        names = sorted(u.name for u in group.users)
    else:  # every running server, named ones included
        return sorted(
            (name, server)
            for name, server in db.query(orm.User.name, orm.Spawner.name)
            .join(orm.Spawner, orm.Spawner.user_id == orm.User.id)
            .filter(orm.Spawner.server_id.isnot(None))
        )
    return [(n, s) for n in names for s in user_servers(users_by_name(n), req.action)]


def skip_reason(action: str, spawner) -> str | None:
    """Why ``action`` does not apply to this server now, or None when it does."""
    if spawner.pending:
        return f"server is {spawner.pending}ing"
    if action == "start":
        return "already running" if spawner.active else None
    if not spawner.active:
        return "not running"
    if action == "restart" and not spawner.ready:
        return "not ready"
    return None
