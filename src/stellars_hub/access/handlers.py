"""Lab access API: the state, the user's consent switch, and an admin opening a user's lab."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from .. import labnotify
from ..notifications.config import Notifications
from ..web.base import HandlerMixin, StellarsAPIHandler
from ..web.errors import http_error
from ..web.permissions import allowed, requires
from .config import LabAccess
from .grants import CONSENT_SCOPE, grant_role, revoke
from .store import store_for

ADMIN_SCOPE = "admin:servers"
NOTIFIED_GRANT_SECONDS = 3600  # without consent (operator's choice): one hour per opening


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


class AccessMixin(HandlerMixin):
    @property
    def store(self):
        return store_for(self.platform)

    @property
    def mode(self) -> str:
        return self.configured(LabAccess).mode

    async def state(self, name: str) -> dict:
        now = time.time()
        until = await self.store.consent_until(name, now)
        grants = await self.store.grants(name, now)
        return {
            "username": name,
            "mode": self.mode,
            "consent": until is not None,
            "consent_until": iso(until),
            "max_hours": self.configured(LabAccess).max_hours,
            "grants": [{"admin": a, "until": iso(u)} for a, u in grants],
        }


class AccessStateAPIHandler(AccessMixin, StellarsAPIHandler):
    @requires(CONSENT_SCOPE, ADMIN_SCOPE)
    async def get(self, user_name):
        user = self.find_user_or_404(user_name)
        self.write_json(await self.state(user.name))

    @requires(ADMIN_SCOPE)
    async def post(self, user_name):
        """An admin opens the user's lab: granted while consent lasts (or an hour when the
        operator allows access without consent); the user is told in their lab; audited."""
        user = self.find_user_or_404(user_name)
        admin = self.current_user
        if admin is None or admin.name == user.name:
            raise http_error(400, "user: open your own lab from your home page")
        now = time.time()
        consent = await self.store.consent_until(user.name, now)
        if consent is None and self.mode == "consent":
            self.audit(user.name, "lab-access", "refused", reason="no consent")
            raise http_error(
                409,
                f"{user.name} has not allowed administrators into their lab; ask them to "
                "switch on 'Allow administrators into my lab' on their home page",
            )
        until = consent if consent is not None else now + NOTIFIED_GRANT_SECONDS
        await self.store.grant(user.name, admin.name, until, now)
        grant_role(self.db, user.name, admin)
        notified = None
        if user.spawner.ready:
            stamp = datetime.fromtimestamp(until, timezone.utc).strftime("%H:%M UTC")
            (delivery,) = await labnotify.deliver_many(
                [user],
                labnotify.payload(f"Administrator {admin.name} has opened your lab (access until {stamp}).", "warning"),
                timeout=self.configured(Notifications).timeout,
                note="admin access notice",
            )
            notified = delivery.as_dict()
        self.audit(
            user.name,
            "lab-access",
            "granted",
            until=iso(until),
            consent=consent is not None,
            notified=(notified or {}).get("status"),
        )
        self.write_json(
            {
                "username": user.name,
                "url": user.url,
                "until": iso(until),
                "consent": consent is not None,
                "notified": notified,
            }
        )


class ConsentAPIHandler(AccessMixin, StellarsAPIHandler):
    """Only the user gives or withdraws consent (admins hold no consent scope on others)."""

    def require_self_scope(self, name: str) -> None:
        if not allowed(self, CONSENT_SCOPE, name):
            raise http_error(403, f"only {name} may allow or stop administrator access to their lab")

    async def put(self, user_name):
        self.require_self_scope(user_name)
        user = self.find_user_or_404(user_name)
        body = self.json_body()
        hours = body.get("hours") if isinstance(body, dict) else None
        limit = self.configured(LabAccess).max_hours
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= limit:
            raise http_error(400, f"hours: expected a whole number from 1 to {limit}")
        now = time.time()
        await self.store.give_consent(user.name, now + hours * 3600, now)
        self.audit(user.name, "lab-access-consent", "given", hours=hours)
        self.write_json(await self.state(user.name))

    async def delete(self, user_name):
        self.require_self_scope(user_name)
        user = self.find_user_or_404(user_name)
        for admin in await self.store.withdraw_consent(user.name):
            revoke(self.db, user.name, admin)
        self.audit(user.name, "lab-access-consent", "withdrawn")
        self.write_json(await self.state(user.name))
