"""Base classes for the platform's API and page handlers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.handlers.base import BaseHandler
from traitlets.config import Configurable

from .. import naming, resourcefaults
from ..lab.mixin import configured_volume_specs
from ..platform import Platform
from ..runtime import ContainerRuntime
from . import audit
from .errors import http_error, translate
from .locks import UserLocks

C = TypeVar("C", bound=Configurable)


class StellarsMixin:
    """Access to the hub's platform: its settings, runtime and per-user locks."""

    if TYPE_CHECKING:  # provided by the JupyterHub handler class it is mixed into
        settings: dict[str, Any]  # tornado's application settings
        db: Any  # the hub's ORM session
        current_user: Any  # jupyterhub.user.User, or None
        request: Any  # tornado's HTTPServerRequest

        def find_user(self, name: str) -> Any: ...
        def get_argument(self, name: str, default: Any = ..., strip: bool = True) -> Any: ...

    @property
    def platform(self) -> Platform:
        return Platform.current()

    def configured(self, cls: type[C]) -> C:
        """The hub's instance of a feature's settings class (``self.configured(SelfService).rate_limit``)."""
        return self.platform.settings(cls)

    @property
    def runtime(self) -> ContainerRuntime:
        return self.platform.runtime

    @property
    def user_volume_specs(self) -> tuple[naming.UserVolume, ...]:
        """The configured per-user volumes (the spawner's ``user_volumes``), read once per hub."""
        return self.platform.shared(
            "user-volumes", lambda: configured_volume_specs(self.settings["config"], self.settings.get("spawner_class"))
        )

    @property
    def user_locks(self) -> UserLocks:
        return self.platform.locks

    def audit(self, target: str, action: str, outcome: str, **detail) -> dict:
        actor = self.current_user.name if self.current_user else "(anonymous)"
        return audit.record_for(self.platform, actor, target, action, outcome, **detail)

    # Every platform route that changes something refuses on a full data disk before it begins:
    # a broadcast delivered or a volume removed cannot be rolled back when its record or audit
    # line then fails to be written. Anonymous callers are refused by the route as usual.
    SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

    async def prepare(self):
        await super().prepare()  # type: ignore[misc]
        if self.request.method not in self.SAFE_METHODS and self.current_user is not None:
            if resourcefaults.disk_full(self.platform.data_dir):
                raise http_error(*resourcefaults.answer(resourcefaults.DISK_FULL))

    # The one place where domain errors become HTTP errors, for every handler method of the
    # platform (tornado's public hooks for an exception a handler lets through).
    def log_exception(self, typ, value, tb):
        mapped = translate(value) if value is not None else None
        if mapped is not None:
            typ, value = type(mapped), mapped  # a refusal: one warning line, no traceback
        super().log_exception(typ, value, tb)

    def send_error(self, status_code: int = 500, **kwargs):
        exc_info = kwargs.get("exc_info")
        mapped = translate(exc_info[1]) if exc_info else None
        if mapped is not None and exc_info:  # (mapped implies exc_info)
            status_code = mapped.status_code
            kwargs["exc_info"] = (type(mapped), mapped, exc_info[2])
        super().send_error(status_code, **kwargs)  # type: ignore[misc]


if TYPE_CHECKING:
    # base of the features' handler mixins, which are only mixed into the handlers below
    HandlerMixin = StellarsMixin
else:
    HandlerMixin = object


# the platform's JSON bodies are a few names and flags: anything larger is refused unread
MAX_JSON_BODY = 64 * 1024


class StellarsAPIHandler(StellarsMixin, APIHandler):
    async def prepare(self):
        if len(self.request.body or b"") > MAX_JSON_BODY:
            raise http_error(
                413, f"the request body has {len(self.request.body)} bytes; at most {MAX_JSON_BODY} are accepted"
            )
        await super().prepare()

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
