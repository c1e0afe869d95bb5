"""The usage API (JSON or CSV) and the admin page."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from jupyterhub import orm
from jupyterhub.scopes import has_scope
from tornado import web

from ..web.base import StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from ..web.permissions import requires_global
from . import report
from .sampler import recorder_for

READ_SCOPE = "custom:usage:read"
# JupyterHub's admin role cannot take custom scopes: admins are recognised by a built-in one
ADMIN_SCOPE = "admin:users"


class UsageAPIHandler(StellarsAPIHandler):
    @requires_global(READ_SCOPE, ADMIN_SCOPE)
    async def get(self):
        args = {k: self.get_argument(k, "") for k in ("from", "to", "period", "group", "format")}
        fmt = args["format"] or "json"
        if fmt not in ("json", "csv"):
            raise http_error(400, f"format: {fmt!r} is not json or csv")
        now = time.time()
        try:
            first, last, kind = report.parse_query(args, datetime.fromtimestamp(now, timezone.utc).date())
        except report.BadQuery as exc:
            raise http_error(400, str(exc)) from None
        if args["group"]:
            group = orm.Group.find(self.db, args["group"])
            if group is None:
                raise http_error(404, f"group: no group named {args['group']!r}")
            users, only = sorted(u.name for u in group.users), True
        else:
            users, only = [name for (name,) in self.db.query(orm.User.name).order_by(orm.User.name)], False
        store = recorder_for(self.platform).store
        data = await store.run(report.build, users, first, last, kind, now, only)
        data["group"] = args["group"] or None
        data["generated_at"] = datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds")
        if fmt == "csv":
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            suffix = f"-{args['group']}" if args["group"] else ""
            self.set_header("Content-Disposition", f'attachment; filename="usage-{first}-{last}-{kind}{suffix}.csv"')
            self.finish(report.to_csv(data))
            return
        self.write_json(data)


class UsagePage(StellarsPageHandler):
    @web.authenticated
    async def get(self):
        if not any(has_scope(s, self.parsed_scopes, db=self.db) for s in (READ_SCOPE, ADMIN_SCOPE)):
            raise web.HTTPError(403, "Only administrators may see the usage report")
        groups = [name for (name,) in self.db.query(orm.Group.name).order_by(orm.Group.name)]
        self.finish(await self.render_template("usage.html", usage_groups=groups))
