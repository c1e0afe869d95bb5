"""Who may do what: one row per (route pattern, method) the platform registers.

The permission matrix test (tests/inprocess/test_permission_matrix.py) sends every row's request
as every identity to a real hub and checks the answer against this table, and README.md's
who-may-do-what table is generated from it (``python tests/readme.py``).

``allowed``: the identities that get ``ok`` (the status of an authorised caller for the row's
harmless request: a 409/400/404 proves the permission check passed without changing anything).
Every other identity is refused: 403, or a redirect to the login page for an anonymous page
request. ``custom``: the custom scope a token holds for the "custom" identity ("{t}": the target).
"""

from __future__ import annotations

from dataclasses import dataclass, field

IDENTITIES = ("anonymous", "other", "self", "admin", "filtered", "custom", "culler", "noxsrf", "crosssite")


# who the identities are, for the README
@dataclass(frozen=True)
class Row:
    ok: int
    allowed: frozenset
    custom: str | None = None
    body: object = None
    page: bool = False
    destructive: bool = False  # refused calls are followed by a re-read of the state
    path: str | None = None  # the path's argument when it is no user name (a batch id)
    purpose: str = ""
    extra: dict = field(default_factory=dict)


def _r(ok, allowed, purpose, **kw):
    return Row(ok, frozenset(allowed.split()), purpose=purpose, **kw)


ADMIN = "admin noxsrf crosssite"  # an admin's cookie: GETs work without XSRF (they change nothing)
ROWS: dict[tuple[str, str], Row] = {
    ("/readiness", "GET"): _r(
        200, "anonymous other self admin filtered custom culler noxsrf crosssite", "readiness probe (no login)"
    ),
    ("/api/users/([^/]+)", "PATCH"): _r(
        400,
        "admin filtered",
        "JupyterHub's user update; renames carry the platform's records",
        body={"admin": "maybe"},
    ),
    ("/policies", "GET"): _r(200, ADMIN, "group policies page", page=True),
    ("/api/policies", "GET"): _r(200, ADMIN + " custom", "every group's policy", custom="custom:policies:read"),
    ("/api/groups/([^/]+)/policy", "GET"): _r(
        404, ADMIN + " custom", "one group's policy (404: no such group)", custom="custom:policies:read"
    ),
    ("/api/groups/([^/]+)/policy", "PUT"): _r(
        404, "admin custom", "change a group's policy (404: no such group)", custom="custom:policies:write", body={}
    ),
    ("/api/projects", "GET"): _r(
        200, ADMIN + " custom", "every group's project folder and its size", custom="custom:policies:read"
    ),
    ("/api/projects/([^/]+)", "DELETE"): _r(
        404,
        "admin custom",
        "remove a project folder and its volume (404: no such folder)",
        custom="custom:policies:write",
        destructive=True,
    ),
    ("/api/groups/([^/]+)/project", "POST"): _r(
        404,
        "admin custom",
        "create a group's project folder (404: no such group)",
        custom="custom:policies:write",
        body={},
        destructive=True,
    ),
    ("/api/groups/([^/]+)/project", "PATCH"): _r(
        404,
        "admin custom",
        "change who sees a group's project folder read-only (404: no such group)",
        custom="custom:policies:write",
        body={"viewers": None},
        destructive=True,
    ),
    ("/api/storage", "GET"): _r(
        200, ADMIN + " custom", "every user's storage against their quota", custom="custom:policies:read"
    ),
    ("/api/users/([^/]+)/lab", "GET"): _r(
        200, "self admin filtered culler noxsrf crosssite", "the user's effective lab"
    ),
    ("/api/users/([^/]+)/storage", "GET"): _r(
        200, "self admin filtered culler noxsrf crosssite", "the user's storage against their quota"
    ),
    ("/api/users/([^/]+)/environment", "GET"): _r(
        200,
        "self admin filtered custom noxsrf crosssite",
        "the user's own lab variables",
        custom="custom:environment:write!user={t}",
    ),
    ("/api/users/([^/]+)/environment", "PUT"): _r(
        400,
        "self admin filtered custom",
        "set the user's own lab variables",
        custom="custom:environment:write!user={t}",
        body={"env": "x"},
        destructive=True,
    ),
    ("/usage", "GET"): _r(200, ADMIN, "usage report page", page=True),
    ("/api/usage", "GET"): _r(200, ADMIN + " custom", "every user's usage report", custom="custom:usage:read"),
    ("/batch", "GET"): _r(200, ADMIN, "batch actions page", page=True),
    ("/api/batch/preview", "POST"): _r(
        200, "self admin filtered", "who a batch would affect", body={"action": "restart", "users": ["{t}"]}
    ),
    ("/api/batch", "POST"): _r(
        409,
        "self admin filtered",
        "stop, start or restart labs (409: nothing applies)",
        body={"action": "restart", "users": ["{t}"]},
        destructive=True,
    ),
    ("/api/batch/([0-9a-f]+)", "GET"): _r(
        404,
        "other self admin filtered culler noxsrf crosssite",
        "a batch's progress (404: no such batch)",
        path="0123456789ab",
    ),
    ("/api/batch/([0-9a-f]+)/cancel", "GET"): _r(
        404,
        "other self admin filtered culler noxsrf crosssite",
        "a batch's progress (404: no such batch)",
        path="0123456789ab",
    ),
    ("/api/batch/([0-9a-f]+)/cancel", "POST"): _r(
        404, "other self admin filtered culler", "cancel a batch (404: no such batch)", path="0123456789ab"
    ),
    ("/backups", "GET"): _r(200, ADMIN, "backups page", page=True),
    ("/api/backups", "GET"): _r(200, ADMIN + " custom", "every user's last backups", custom="custom:backups:read"),
    ("/api/backups/run", "POST"): _r(409, "admin", "start a backup round now (409: backups are off)"),
    ("/api/users/([^/]+)/backups", "GET"): _r(
        200, "self admin filtered custom noxsrf crosssite", "the user's backups", custom="custom:backups:read!user={t}"
    ),
    ("/api/users/([^/]+)/backups/restore", "POST"): _r(
        400,
        "admin filtered custom",
        "restore a volume from a backup",
        custom="custom:backups:restore",  # users do not hold it on themselves: a service's token
        body={},
        destructive=True,
    ),
    ("/api/users/([^/]+)/lab-access", "GET"): _r(
        200,
        "self admin filtered custom noxsrf crosssite",
        "who may enter the user's lab",
        custom="custom:labaccess:consent!user={t}",
    ),
    ("/api/users/([^/]+)/lab-access", "POST"): _r(
        409, "admin filtered", "an admin opens the lab (409: no consent)", destructive=True
    ),
    ("/api/users/([^/]+)/lab-access/consent", "PUT"): _r(
        400, "self custom", "allow admins into the lab", custom="custom:labaccess:consent!user={t}", body={"hours": 0}
    ),
    ("/api/users/([^/]+)/lab-access/consent", "DELETE"): _r(
        200, "self custom", "stop admins' access to the lab", custom="custom:labaccess:consent!user={t}"
    ),
    ("/api/users/([^/]+)/sharing", "GET"): _r(
        200, "self admin noxsrf crosssite", "the user's shared labs, who is in, and the labs shared with them"
    ),
    ("/api/shares/([^/]+)/([^/]*)", "POST"): _r(
        404,
        "self",
        "share a lab so that it opens (JupyterHub's route; admins' shares cannot open a lab; 404: no such server)",
        custom="custom:sharing:share!user={t}",
        body={"user": "{t}"},
    ),
    ("/api/share-codes/([^/]+)/([^/]*)", "POST"): _r(
        404,
        "self",
        "an invitation link to a lab (JupyterHub's route, as above; 404: no such server)",
        custom="custom:sharing:share!user={t}",
        body={"expires_in": 3600},
    ),
    ("/api/users/([^/]+)/servers/([^/]+)/restart-server", "GET"): _r(
        404, "self admin filtered culler noxsrf crosssite", "a named server's restart progress (404: no such server)"
    ),
    ("/api/users/([^/]+)/servers/([^/]+)/restart-server", "POST"): _r(
        404, "self admin filtered", "restart a named server (404: no such server)", destructive=True
    ),
    ("/api/users/([^/]+)/servers/([^/]+)/manage-volumes", "GET"): _r(
        404,
        "self admin filtered custom noxsrf crosssite",
        "a named server's volumes (404: no such server)",
        custom="custom:volumes:read!user={t}",
    ),
    ("/api/users/([^/]+)/servers/([^/]+)/manage-volumes", "DELETE"): _r(
        404,
        "self admin filtered custom",
        "reset a named server's volumes (404: no such server)",
        custom="custom:volumes:reset!user={t}",
        body={"volumes": ["home"]},
        destructive=True,
    ),
    ("/api/admin/credentials", "GET"): _r(200, ADMIN, "generated passwords of users created in the last minutes"),
    ("/api/admin/credentials", "POST"): _r(200, "admin", "read generated passwords", body={"usernames": ["{t}"]}),
    ("/api/admin/users/([^/]+)", "DELETE"): _r(
        400,
        "admin filtered",
        "delete a user (and optionally volumes)",
        body={"remove_volumes": "maybe"},
        destructive=True,
    ),
    ("/api/admin/kept-volumes", "GET"): _r(200, ADMIN, "list deleted users' kept volumes"),
    ("/api/admin/kept-volumes", "DELETE"): _r(405, "admin", "(405: delete one set by id)"),
    ("/api/admin/kept-volumes/([^/]+)", "GET"): _r(405, ADMIN, "(405: list with the collection)"),
    ("/api/admin/kept-volumes/([^/]+)", "DELETE"): _r(
        404, "admin", "remove a deleted user's kept volumes", destructive=True
    ),
    ("/api/users/([^/]+)/restart-server", "GET"): _r(
        200, "self admin filtered culler noxsrf crosssite", "restart progress"
    ),
    ("/api/users/([^/]+)/restart-server", "POST"): _r(
        409, "self admin filtered", "restart the lab in place", destructive=True
    ),
    ("/api/users/([^/]+)/manage-volumes", "GET"): _r(
        200,
        "self admin filtered custom noxsrf crosssite",
        "list the user's volumes",
        custom="custom:volumes:read!user={t}",
    ),
    ("/api/users/([^/]+)/manage-volumes", "DELETE"): _r(
        400,
        "self admin filtered custom",
        "reset chosen volumes",
        custom="custom:volumes:reset!user={t}",
        body={"volumes": []},
        destructive=True,
    ),
    ("/manage/([^/]+)", "GET"): _r(200, "self admin noxsrf crosssite", "the user's control page", page=True),
    ("/settings", "GET"): _r(200, ADMIN, "settings page", page=True),
    ("/api/settings", "GET"): _r(
        200, ADMIN + " custom", "read settings (secrets masked)", custom="custom:settings:read"
    ),
    ("/api/users/([^/]+)/session-info", "GET"): _r(
        200, "self admin filtered culler noxsrf crosssite", "idle-culling deadline"
    ),
    ("/api/users/([^/]+)/extend-session", "POST"): _r(
        409,
        "self admin filtered custom",
        "extend the deadline",
        custom="custom:session:extend!user={t}",
        body={"hours": 1},
        destructive=True,
    ),
    ("/api/users/([^/]+)/session-warning", "POST"): _r(
        409,
        "custom culler",
        "warn the user in their lab",
        custom="custom:session:warn",
        body={"minutes": 5},
        destructive=True,
    ),
    ("/api/users/([^/]+)/session-activity", "POST"): _r(
        409,
        "custom culler",
        "ask the lab whether it is busy and record its activity (409: not running)",
        custom="custom:session:activity",
        destructive=True,
    ),
    ("/api/users/([^/]+)/servers/([^/]+)/session-activity", "POST"): _r(
        404,
        "custom culler",
        "the same for a named server (404: no such server)",
        custom="custom:session:activity",
        destructive=True,
    ),
    ("/session", "GET"): _r(200, "self other admin noxsrf crosssite", "own session page", page=True),
    ("/api/users/([^/]+)/servers/([^/]+)/session-info", "GET"): _r(
        404,
        "self admin filtered culler noxsrf crosssite",
        "a named server's idle-culling deadline (404: no such server)",
    ),
    ("/api/users/([^/]+)/servers/([^/]+)/extend-session", "POST"): _r(
        404,
        "self admin filtered custom",
        "extend a named server's deadline (404: no such server)",
        custom="custom:session:extend!user={t}",
        body={"hours": 1},
        destructive=True,
    ),
    ("/api/users/([^/]+)/servers/([^/]+)/session-warning", "POST"): _r(
        404,
        "custom culler",
        "warn the user in a named server's lab (404: no such server)",
        custom="custom:session:warn",
        body={},
        destructive=True,
    ),
    ("/api/activity", "GET"): _r(200, ADMIN + " custom", "activity of every user", custom="custom:activity:read"),
    ("/api/activity/reset", "POST"): _r(
        200, "admin custom", "clear the activity history", custom="custom:activity:reset", destructive=True
    ),
    ("/activity", "GET"): _r(200, ADMIN, "activity page", page=True),
    ("/api/notifications/active-servers", "GET"): _r(
        200, ADMIN + " custom", "running labs to notify", custom="custom:notifications:broadcast"
    ),
    ("/api/notifications/broadcast", "POST"): _r(
        400,
        "admin custom",
        "notify running labs",
        custom="custom:notifications:broadcast",
        body={"message": ""},
        destructive=True,
    ),
    ("/api/notifications/history", "GET"): _r(
        200, ADMIN + " custom", "past broadcasts", custom="custom:notifications:broadcast"
    ),
    ("/notifications", "GET"): _r(200, ADMIN, "notifications page", page=True),
    ("/events", "GET"): _r(200, ADMIN, "audit page", page=True),
    ("/api/events", "GET"): _r(200, ADMIN + " custom", "read the audit log", custom="custom:events:read"),
}


COLUMNS = ("anonymous", "other", "self", "admin", "filtered", "custom", "culler")
HEADINGS = ("No login", "Another user", "Self", "Admin", "Filtered admin token", "Custom scope", "Idle culler")


def _cell(row: Row, identity: str) -> str:
    if identity == "custom":
        return f"`{row.custom.replace('{t}', '<name>')}`" if row.custom and "custom" in row.allowed else "no"
    if identity == "self" and "([^/]+)" not in _pattern_of(row):
        return "yes" if "self" in row.allowed or "other" in row.allowed else "no"
    return "yes" if identity in row.allowed else "no"


def _pattern_of(row: Row) -> str:
    return next(p for (p, _), r in ROWS.items() if r is row)


def markdown_table() -> str:
    """The README's who-may-do-what table, generated from ``ROWS``."""
    lines = ["| Method | Route | What | " + " | ".join(HEADINGS) + " |", "|" + " --- |" * (3 + len(HEADINGS))]
    for (pattern, method), row in sorted(ROWS.items(), key=lambda kv: (kv[0][0].replace("/api", ""), kv[0][1])):
        if row.ok == 405:
            continue  # method not offered on that path
        route = "/hub" + pattern.replace("([^/]+)", "<name>")
        cells = [_cell(row, i) for i in COLUMNS]
        lines.append(f"| {method} | `{route}` | {row.purpose} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
