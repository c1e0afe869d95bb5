"""What this feature adds to the hub: custom scopes and routes."""

from __future__ import annotations

from .handlers import (
    EXTEND_SCOPE,
    WARN_SCOPE,
    ExtendSessionAPIHandler,
    SessionInfoAPIHandler,
    SessionPage,
    SessionWarningAPIHandler,
)

SCOPES = {
    EXTEND_SCOPE: {"description": "Extend the idle-culling deadline of a user's running server"},
    WARN_SCOPE: {"description": "Warn a user inside their lab that idle culling will stop it soon"},
}
USER_SCOPES = [f"{EXTEND_SCOPE}!user"]  # everyone may extend their own session
NAV: list[dict] = []


def handlers(settings):
    return [
        (r"/api/users/([^/]+)/session-info", SessionInfoAPIHandler),
        (r"/api/users/([^/]+)/extend-session", ExtendSessionAPIHandler),
        (r"/api/users/([^/]+)/session-warning", SessionWarningAPIHandler),
        (r"/session", SessionPage),
    ]
