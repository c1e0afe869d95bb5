"""JupyterHub's sharing routes, registered ahead of JupyterHub's own (the authenticator's
``get_handlers``) as subclasses of its handlers: the same paths, request and answer models and
scope checks, plus what the platform decides.

- A share or invitation link that is about entering the lab (JupyterHub's default) is made by
  the platform: only with ``custom:sharing:share`` on the server (its owner), and it carries the
  lab's enter scope besides JupyterHub's ``access:servers``. Any other share (explicit scopes
  that do not open the lab) is JupyterHub's business, answered as JupyterHub answers it.
- Every grant, link, acceptance and revocation is one audit line; a revocation settles the
  visitors at once (``visitors.Visitors``).
- ``GET /hub/api/users/<name>/sharing`` gathers what the home page shows in one answer.
"""

from __future__ import annotations

import inspect
import json
import time
from datetime import datetime, timezone

from jupyterhub import orm
from jupyterhub.apihandlers.shares import (
    GroupShareAPIHandler,
    ServerShareAPIHandler,
    ServerShareCodeAPIHandler,
    ShareCodeGrantRequest,
    ShareGrantRequest,
    UserShareAPIHandler,
)
from jupyterhub.handlers.pages import AcceptShareHandler
from pydantic import ValidationError
from tornado import web

from ..web.base import HandlerMixin, StellarsAPIHandler, StellarsMixin
from ..web.errors import http_error
from ..web.permissions import allowed_on_server, holds_globally, requires
from ..web.ratelimit import RateLimiter
from . import records
from . import roles as labroles
from .config import LabSharing
from .visitors import visitors_for

SHARE_SCOPE = "custom:sharing:share"
NAMES_PER_MINUTE = 30  # shares and links a person makes per minute (each may tell a name exists)


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "body"
    return f"{where}: {err.get('msg', 'invalid')}"


class SharesMixin(HandlerMixin):
    """What the platform adds to JupyterHub's share handlers."""

    def require_owner_share(self, owner: str, server: str) -> None:
        """JupyterHub's ``shares`` and the platform's share scope on the server, checked before
        anything is looked up (a refusal tells nobody whether the user or server exists)."""
        who = self.current_user.name if self.current_user else "anonymous requests"
        label = records.server_label(owner, server)
        if not allowed_on_server(self, "shares", owner, server):
            raise http_error(403, f"{who} may not share {label} (needs scope shares)")
        if not self.configured(LabSharing).enabled:
            raise http_error(403, "sharing labs is turned off on this hub (JUPYTERHUB_LAB_SHARING=0)")
        if not allowed_on_server(self, SHARE_SCOPE, owner, server):
            self.audit(owner, "lab-share", "refused", server=server, reason=f"no {SHARE_SCOPE}")
            raise http_error(
                403,
                f"only the owner shares {label} so that it opens ({who} lacks {SHARE_SCOPE}); "
                "administrators enter a lab with its owner's consent (Open their lab)",
            )

    def require_global_shares(self) -> None:
        """A share of other permissions than entering a lab stays with holders of JupyterHub's
        unfiltered ``shares`` (administrators), as before users could share: users hold
        ``shares`` on themselves only to share their labs."""
        if not holds_globally(self, "shares"):
            who = self.current_user.name if self.current_user else "anonymous requests"
            raise http_error(
                403,
                f"{who} may share a lab only to open it (leave 'scopes' out); sharing other permissions "
                "needs scope shares on every server",
            )

    def count_share(self) -> None:
        limiter = self.platform.shared("sharing-limiter", lambda: RateLimiter(NAMES_PER_MINUTE, 60))
        limiter.hit(self.current_user.name if self.current_user else "(anonymous)")

    def lab_model(self):
        """The request body (JupyterHub's reading of it: 400 for bad JSON)."""
        model = self.get_json_body()
        if model is None:
            model = {}
        if not isinstance(model, dict):
            raise http_error(400, "body: expected a JSON object")
        return model

    # a revocation takes effect before its answer leaves (JupyterHub's handler may finish the
    # response itself): the lab's role follows the records and the ended shares are audited
    _watched: tuple | None = None

    def watch(self, spawner: orm.Spawner | None, owner: str, server: str, link: str | None = None) -> None:
        """Note the lab's shares before JupyterHub's handler changes them (``link``: an
        invitation link being accepted)."""
        if spawner is not None:
            self._watched = (spawner, records.shares_of_spawner(self.db, spawner.id), owner, server, link)

    def settle_watched(self) -> None:
        watched, self._watched = self._watched, None
        if watched is None:
            return
        spawner, before, owner, server, link = watched
        after = records.shares_of_spawner(self.db, spawner.id)
        for share_id, row in before.items():
            now = after.get(share_id)
            if row.opens and (now is None or not now.opens):
                self.audit(owner, "lab-share-revoke", "ok", server=server, **row.recipient)
        if link is not None:
            for share_id, row in after.items():
                if row.opens and not (share_id in before and before[share_id].opens):
                    self.audit(owner, "lab-share", "accepted", server=server, link=link, **row.recipient)
        labroles.sync(self.db, spawner)

    def finish(self, *args, **kwargs):
        try:
            self.settle_watched()
        except Exception:  # the answer goes out either way; the sweep catches up within 30 s
            self.log.exception("shares of %s could not be settled", self.request.path)  # type: ignore[attr-defined]
        return super().finish(*args, **kwargs)  # type: ignore[misc]

    async def revoking(self, jupyterhub_method, owner: str, server: str | None, *args) -> None:
        """Run JupyterHub's own revoking handler (its scope check, its change, its answer),
        settled as above; then the visitors who lost the lab lose their sessions."""
        spawner = self._lookup_spawner(owner, server, raise_404=False) if server is not None else None  # type: ignore[attr-defined]
        self.watch(spawner, owner, server or "")
        result = jupyterhub_method(*args)
        if inspect.isawaitable(result):
            await result
        self.settle_watched()  # when JupyterHub's handler did not finish the answer itself
        if spawner is not None:
            await visitors_for(self.platform).reconcile(self.db, self.users)  # type: ignore[attr-defined]


class LabShareAPIHandler(SharesMixin, StellarsMixin, ServerShareAPIHandler):
    """``/hub/api/shares/<owner>/<server>``: grant (POST), revoke (PATCH, DELETE)."""

    platform_methods = ("POST",)  # the permission matrix's rows; PATCH/DELETE are JupyterHub's checks

    async def post(self, user_name, server_name=None):
        if server_name is None:
            return await super().post(user_name, server_name)  # JupyterHub's 405
        model = self.lab_model()
        if not records.opens_lab(model.get("scopes")):
            self.require_global_shares()
            return await super().post(user_name, server_name)  # not about entering the lab
        self.require_owner_share(user_name, server_name)
        try:
            request = ShareGrantRequest(**model)
        except ValidationError as exc:
            raise http_error(400, _first_error(exc)) from None
        except ValueError as exc:  # JupyterHub's scope check names an unknown scope
            raise http_error(400, f"scopes: {exc}") from None
        extra = [s for s in request.scopes or () if s.partition("!")[0] not in (records.ACCESS, records.ENTER)]
        if extra:
            raise http_error(400, f"scopes: a share of a lab opens it and grants nothing else, not {extra[0]}")
        self.count_share()
        spawner = self._lookup_spawner(user_name, server_name)
        if request.user is not None:
            found = self.find_user(request.user)
            if found is None:
                raise http_error(400, f"user: no user named {request.user!r}")
            if found.name == user_name:
                raise http_error(400, f"user: {found.name} owns this lab")
            share_with = found.orm_user
        else:
            share_with = orm.Group.find(self.db, name=request.group)
            if share_with is None:
                raise http_error(400, f"group: no group named {request.group!r}")
        share = orm.Share.grant(self.db, spawner, share_with, scopes=records.lab_share_scopes(user_name, server_name))
        labroles.sync(self.db, spawner)
        self.audit(user_name, "lab-share", "granted", server=server_name, **records.row_of(share).recipient)
        self.finish(json.dumps(self.share_model(share)))

    async def patch(self, user_name, server_name=None):
        await self.revoking(super().patch, user_name, server_name, user_name, server_name)

    async def delete(self, user_name, server_name=None):
        await self.revoking(super().delete, user_name, server_name, user_name, server_name)


class LabShareCodeAPIHandler(SharesMixin, StellarsMixin, ServerShareCodeAPIHandler):
    """``/hub/api/share-codes/<owner>/<server>``: invitation links (POST), their end (DELETE)."""

    platform_methods = ("POST",)

    async def post(self, user_name, server_name=None):
        if server_name is None:
            return await super().post(user_name, server_name)
        model = self.lab_model()
        if not records.opens_lab(model.get("scopes")):
            self.require_global_shares()
            return await super().post(user_name, server_name)
        self.require_owner_share(user_name, server_name)
        try:
            request = ShareCodeGrantRequest(**model)
        except ValidationError as exc:
            raise http_error(400, _first_error(exc)) from None
        except ValueError as exc:
            raise http_error(400, f"scopes: {exc}") from None
        extra = [s for s in request.scopes or () if s.partition("!")[0] not in (records.ACCESS, records.ENTER)]
        if extra:
            raise http_error(400, f"scopes: an invitation to a lab opens it and grants nothing else, not {extra[0]}")
        self.count_share()
        spawner = self._lookup_spawner(user_name, server_name)
        code_row, code = orm.ShareCode.new(
            self.db,
            spawner,
            scopes=records.lab_share_scopes(user_name, server_name),
            expires_in=request.expires_in,
        )
        # the code itself is a secret: the audit names the link by its id
        self.audit(
            user_name,
            "lab-share",
            "link-created",
            server=server_name,
            link=f"sc_{code_row.id}",
            expires_at=iso(code_row.expires_at),
        )
        self.finish(json.dumps(self.share_code_model(code_row, code=code)))

    def delete(self, user_name, server_name=None):
        spawner = self._lookup_spawner(user_name, server_name, raise_404=False) if server_name is not None else None
        before = records.codes_of_spawner(self.db, spawner.id) if spawner is not None else set()
        super().delete(user_name, server_name)
        if spawner is not None:
            for gone in sorted(before - records.codes_of_spawner(self.db, spawner.id)):
                self.audit(user_name, "lab-share", "link-deleted", server=server_name, link=f"sc_{gone}")


class LabShareLeaveAPIHandler(SharesMixin, StellarsMixin, UserShareAPIHandler):
    """``/hub/api/users/<name>/shared/<owner>/<server>``: a recipient gives a share back."""

    platform_methods = ()

    async def delete(self, user_name, owner_name, server_name):
        await self.revoking(super().delete, owner_name, server_name, user_name, owner_name, server_name)


class LabShareGroupLeaveAPIHandler(SharesMixin, StellarsMixin, GroupShareAPIHandler):
    """``/hub/api/groups/<name>/shared/<owner>/<server>``: a group's share ended."""

    platform_methods = ()

    async def delete(self, group_name, owner_name, server_name):
        await self.revoking(super().delete, owner_name, server_name, group_name, owner_name, server_name)


class LabAcceptShareHandler(SharesMixin, StellarsMixin, AcceptShareHandler):
    """``/hub/accept-share``: JupyterHub's page for an invitation link; accepting is audited."""

    platform_methods = ()

    @web.authenticated
    def post(self):
        code = self.get_argument("code", "")
        found = orm.ShareCode.find(self.db, code=code) if code else None
        if found is not None and found.expired:
            raise web.HTTPError(400, "This invitation link has expired; ask the lab's owner for a new one")
        if found is not None:
            self.watch(found.spawner, found.owner.name, found.spawner.name or "", link=f"sc_{found.id}")
        super().post()  # JupyterHub's exchange, then its redirect (which settles the share first)
        self.settle_watched()


class SharingAPIHandler(SharesMixin, StellarsAPIHandler):
    """``GET /hub/api/users/<name>/sharing``: the user's labs with who has them and who is in,
    their invitation links, and the labs shared with them."""

    @requires("read:shares")
    async def get(self, user_name):
        user = self.find_user_or_404(user_name)
        orm_user = user.orm_user
        visits = {(v["server"], v["user"]): v for v in await visitors_for(self.platform).in_the_lab(user.name)}
        servers = []
        for name, orm_spawner in sorted(orm_user.orm_spawners.items()):
            spawner = user.spawners[name]
            shares = []
            for s in orm_spawner.shares:
                row = records.row_of(s)
                shares.append({"kind": row.kind, "name": row.name, "opens": row.opens, "created_at": iso(s.created_at)})
            for share in shares:
                share["in_lab"] = [
                    {"user": v["user"], "since": iso(v["joined"])}
                    for (server, _), v in visits.items()
                    if server == name
                    and (
                        v["user"] == share["name"] if share["kind"] == "user" else v["via"] == f"group {share['name']}"
                    )
                ]
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            links = [
                {
                    "id": f"sc_{c.id}",
                    "created_at": iso(c.created_at),
                    "expires_at": iso(c.expires_at),
                    "exchange_count": c.exchange_count,
                }
                for c in orm_spawner.share_codes
                if c.expires_at is None or c.expires_at > now
            ]
            if not (spawner.ready or shares or links):
                continue
            servers.append(
                {
                    "server": name,
                    "ready": bool(spawner.ready),
                    "url": user.server_url(name),
                    "shares": shares,
                    "links": links,
                }
            )
        self.write_json(
            {
                "username": user.name,
                "enabled": self.configured(LabSharing).enabled,
                "servers": servers,
                "shared_with_me": self.shared_with(orm_user),
                "time": iso(time.time()),
            }
        )

    def shared_with(self, orm_user) -> list[dict]:
        held = []
        group_ids = [g.id for g in orm_user.groups]
        q = self.db.query(orm.Share).filter(
            (orm.Share.user_id == orm_user.id) | (orm.Share.group_id.in_(group_ids) if group_ids else False)
        )
        seen = set()
        for share in q.order_by(orm.Share.id):
            row = records.row_of(share)
            if not row.opens or (row.owner, row.server) in seen or share.expired:
                continue
            seen.add((row.owner, row.server))
            owner = self.users[share.owner]
            spawner = owner.spawners[row.server]
            held.append(
                {
                    "owner": row.owner,
                    "server": row.server,
                    "via": "user" if row.kind == "user" else f"group {row.name}",
                    "ready": bool(spawner.ready),
                    "url": owner.server_url(row.server),
                }
            )
        return held
