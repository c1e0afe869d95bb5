"""GET /hub/api/events and the /hub/events page: admins (or ``custom:events:read``) only."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlencode

from tornado import web

from ..web.base import HandlerMixin, StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from ..web.permissions import holds_globally
from . import log

READ_SCOPE = "custom:events:read"
ADMIN_SCOPE = "admin:users"  # JupyterHub's admin role cannot be given the custom scope


class EventsMixin(HandlerMixin):
    def may_read(self) -> bool:
        return holds_globally(self, READ_SCOPE, ADMIN_SCOPE)

    def query(self) -> log.Query:
        values = {f: self.get_argument(f, "").strip() for f in log.FILTERS}
        numbers = {}
        for name, default, low, high in (("offset", 0, 0, 10**9), ("limit", 50, 1, log.MAX_LIMIT)):
            raw = self.get_argument(name, str(default))
            try:
                numbers[name] = int(raw)
            except ValueError:
                raise http_error(400, f"{name} must be a whole number, not {raw!r}") from None
            if not low <= numbers[name] <= high:
                raise http_error(400, f"{name} must be between {low} and {high}, not {numbers[name]}")
        return log.Query(**values, offset=numbers["offset"], limit=numbers["limit"])

    async def events(self, query: log.Query) -> dict:
        path = Path(self.platform.audit_path)
        return await asyncio.get_running_loop().run_in_executor(None, log.read, path, query)


class EventsAPIHandler(EventsMixin, StellarsAPIHandler):
    async def get(self):
        if not self.may_read():
            who = self.current_user.name if self.current_user else "anonymous requests"
            raise http_error(403, f"{who} may not read the audit log (needs scope {READ_SCOPE} or {ADMIN_SCOPE})")
        self.set_header("Cache-Control", "no-store")
        self.write_json(await self.events(self.query()))


class EventsPage(EventsMixin, StellarsPageHandler):
    @web.authenticated
    async def get(self):
        if not self.may_read():
            raise web.HTTPError(403, "Only administrators may read the audit log.")
        query = self.query()
        result = await self.events(query)

        def link(offset: int) -> str:
            args = {f: getattr(query, f) for f in log.FILTERS if getattr(query, f)}
            return "?" + urlencode({**args, "offset": offset, "limit": query.limit})

        html = await self.render_template(
            "events.html",
            query=query,
            result=result,
            newer=link(max(0, query.offset - query.limit)) if query.offset else None,
            older=link(query.offset + query.limit) if query.offset + query.limit < result["total"] else None,
        )
        self.finish(html)
