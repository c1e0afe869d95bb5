"""Base classes for the platform's API and page handlers."""

from __future__ import annotations

import json

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.handlers.base import BaseHandler

from ..runtime import ContainerRuntime, new_runtime
from . import audit
from .errors import http_error
from .locks import UserLocks


class StellarsMixin:
    """Access to the platform's shared objects, kept in the tornado settings by hubconfig."""

    @property
    def stellars(self):
        return self.settings["stellars_settings"]

    @property
    def runtime(self) -> ContainerRuntime:
        # created on first use: config values are deep-copied, an engine client cannot be
        return self.settings.setdefault("stellars_runtime", new_runtime())

    @property
    def user_locks(self) -> UserLocks:
        return self.settings.setdefault("stellars_locks", UserLocks())

    def audit(self, target: str, action: str, outcome: str, **detail) -> dict:
        audit.configure(self.settings["stellars_audit_path"])
        actor = self.current_user.name if self.current_user else "(anonymous)"
        return audit.record(actor, target, action, outcome, **detail)


class StellarsAPIHandler(StellarsMixin, APIHandler):
    def find_user_or_404(self, user_name: str):
        user = self.find_user(user_name)
        if user is None:
            raise http_error(404, f"no user named {user_name!r}")
        return user

    def json_body(self):
        """The request body as JSON, or a 400 that says what is wrong with it."""
        try:
            return json.loads(self.request.body or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            raise http_error(400, f"the request body is not valid JSON ({exc})") from None

    def write_json(self, data, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, default=str))


class StellarsPageHandler(StellarsMixin, BaseHandler):
    pass
