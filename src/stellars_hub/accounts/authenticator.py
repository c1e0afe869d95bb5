"""The platform's authenticator: NativeAuthenticator, made to work on JupyterHub 6."""

from __future__ import annotations

from nativeauthenticator import NativeAuthenticator
from traitlets import List

from .compat import patched_handlers


class StellarsAuthenticator(NativeAuthenticator):
    priority_handlers = List(
        config=True,
        help="Hub routes that must take precedence over JupyterHub's default handlers for the same "
        "path (e.g. /health): JupyterHub registers the authenticator's handlers first.",
    )

    def get_handlers(self, app):
        return list(self.priority_handlers) + patched_handlers(super().get_handlers(app))

    def check_allowed(self, username, authentication=None):
        # JupyterHub 5+ allows nobody unless told; with NativeAuthenticator the admin's
        # approval (is_authorized) is what allows a user, plus the configured admins.
        if username in self.admin_users:
            return True
        info = self.get_user(username)
        return info is not None and bool(info.is_authorized)
