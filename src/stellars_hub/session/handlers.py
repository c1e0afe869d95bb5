"""HTTP handlers: session info, extend, the culler's warning request, and the session page."""

from __future__ import annotations

from tornado import web

from .. import labnotify
from ..errors import StellarsError
from ..web.base import HandlerMixin, StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error, translate
from ..web.permissions import requires_server
from ..web.servers import server_spawner
from . import busy, sessions
from . import deadline as dl
from .config import IdleCuller
from .store import ExtensionStore, store_for

EXTEND_SCOPE = "custom:session:extend"
WARN_SCOPE = "custom:session:warn"
ACTIVITY_SCOPE = "custom:session:activity"


class SessionMixin(HandlerMixin):
    @property
    def policy(self) -> dl.Policy:
        return dl.Policy.from_config(self.configured(IdleCuller))

    @property
    def session_store(self) -> ExtensionStore:
        return store_for(self.platform)


# Each route also exists per named server (/api/users/<name>/servers/<server>/...), with the
# scope checked on that server; the default server's routes answer exactly as before.


class SessionInfoAPIHandler(SessionMixin, StellarsAPIHandler):
    @requires_server("read:servers")
    async def get(self, user_name, server_name=""):
        user = self.find_user_or_404(user_name)
        spawner = server_spawner(user, server_name)
        self.write_json(await sessions.info(self.policy, self.session_store, user, spawner=spawner))


class ExtendSessionAPIHandler(SessionMixin, StellarsAPIHandler):
    @requires_server(EXTEND_SCOPE, "admin:servers")
    async def post(self, user_name, server_name=""):
        user = self.find_user_or_404(user_name)
        spawner = server_spawner(user, server_name)
        hours = sessions.parse_hours(self.json_body())
        which = {"server": server_name} if server_name else {}
        try:
            result = await sessions.extend(self.policy, self.session_store, user, hours, spawner)
        except StellarsError as exc:
            status = translate(exc).status_code
            self.audit(user.name, "extend-session", f"refused {status}", hours=hours, reason=str(exc), **which)
            raise
        self.audit(
            user.name,
            "extend-session",
            "ok",
            hours=hours,
            granted=result["granted_hours"],
            used=result["extension_used_hours"],
            **which,
        )
        self.write_json(result)


class SessionWarningAPIHandler(SessionMixin, StellarsAPIHandler):
    """Called by the culler service when a stop is near: deliver the warning into the lab once
    per deadline (a new deadline, after activity or an extension, earns a new warning)."""

    @requires_server(WARN_SCOPE)
    async def post(self, user_name, server_name=""):
        user = self.find_user_or_404(user_name)
        spawner = server_spawner(user, server_name)
        policy, store = self.policy, self.session_store
        if not policy.enabled or not spawner.ready:
            label = sessions.server_label(user, spawner)
            raise http_error(409, f"{label} is not running under idle culling; nothing to warn about")
        now = dl.utcnow()
        d = await sessions.server_deadline(policy, store, user, spawner)
        started = spawner.orm_spawner.started
        answer = {"username": user.name, "deadline": dl.iso(d.at), "stop_reason": d.reason, "warned": False}
        if server_name:
            answer["server"] = server_name
        if not dl.warning_due(policy, d.remaining(now)):
            self.write_json({**answer, "reason": "not due"})
            return
        key = dl.iso(d.at)
        if await store.warned_for(user.name, started, server_name) == key:
            self.write_json({**answer, "reason": "already warned for this deadline"})
            return
        text = sessions.warning_text(policy, d, now, self.hub.base_url + "home")
        delivery = await labnotify.deliver(
            user, labnotify.payload(text, "warning", auto_close=False), note="idle culling warning", spawner=spawner
        )
        if delivery.status == "delivered":
            await store.mark_warned(user.name, started, key, server_name)
        self.write_json({**answer, "warned": delivery.status == "delivered", "reason": delivery.error, "message": text})


class SessionActivityAPIHandler(SessionMixin, StellarsAPIHandler):
    """Called by the culler when an idle deadline is near: the hub asks the lab itself whether
    it is busy (kernels running code, terminals in use) and records the lab's own activity, so a
    busy lab's deadline moves before anyone is warned or stopped (see busy.py)."""

    @requires_server(ACTIVITY_SCOPE)
    async def post(self, user_name, server_name=""):
        user = self.find_user_or_404(user_name)
        spawner = server_spawner(user, server_name)
        label = sessions.server_label(user, spawner)
        if not spawner.ready:
            raise http_error(409, f"{label} is not running; there is no lab to ask")
        try:
            activity = await busy.ask_lab(user, spawner)
        except busy.LabUnreachable as exc:
            raise http_error(502, f"{label} did not say whether it is busy: {exc}") from None
        last = busy.record(user, spawner, activity)
        answer = {
            "username": user.name,
            "busy": activity.busy,
            "reason": activity.reason,
            "busy_kernels": activity.busy_kernels,
            "terminals": activity.terminals,
            "lab_last_activity": dl.iso(activity.last_activity),
            "last_activity": dl.iso(dl.naive_utc(last)),
        }
        if server_name:
            answer["server"] = server_name
        self.write_json(answer)


class SessionPage(StellarsPageHandler):
    """/hub/session: the session card on a page of its own (the home page includes it too)."""

    @web.authenticated
    async def get(self):
        self.finish(await self.render_template("session.html"))
