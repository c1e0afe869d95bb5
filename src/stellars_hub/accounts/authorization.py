"""Authorise and un-authorise as POST forms (NativeAuthenticator's toggle is a GET link that any
other site could make an admin's browser follow), and no e-mail approval links.

``POST /hub/authorize/<name>`` (XSRF token required, scope ``admin:users``) flips the signup's
authorisation; un-authorising a hub user also ends their sessions, tokens and labs.
"""

from __future__ import annotations

from nativeauthenticator import handlers as native
from tornado import web

from ..web.base import StellarsMixin
from . import adminguard
from .revocation import revoke_access


class ToggleAuthorizationHandler(StellarsMixin, native.ToggleAuthorizationHandler):
    @native.admin_users_scope
    async def get(self, slug):
        raise web.HTTPError(405, "Authorise or un-authorise with the buttons on the Authorize Users page (a POST form)")

    @native.admin_users_scope
    async def post(self, slug):
        info = self.authenticator.get_user(slug)
        if info is None:
            raise web.HTTPError(404, f"There is no signup or user named {slug}.")
        name = info.username
        if info.is_authorized and adminguard.is_protected(self.authenticator, name):
            raise web.HTTPError(409, adminguard.refusal(name, "un-authorised"))
        async with self.user_locks.exclusive(name, "authorization"):
            info.is_authorized = not info.is_authorized
            self.db.commit()
            detail = {}
            user = self.find_user(name)
            if not info.is_authorized and user is not None:
                detail = await revoke_access(self, user)
        self.audit(name, "authorize" if info.is_authorized else "unauthorize", "ok", **detail)
        self.redirect(self.hub.base_url + "authorize#" + name)


class NoEmailApprovalHandler(native.EmailAuthorizationHandler):
    """E-mail self-approval is not offered: its links authorise on a GET."""

    async def get(self, slug):
        raise web.HTTPError(404)


REPLACEMENTS = {
    native.ToggleAuthorizationHandler: ToggleAuthorizationHandler,
    native.EmailAuthorizationHandler: NoEmailApprovalHandler,
}
