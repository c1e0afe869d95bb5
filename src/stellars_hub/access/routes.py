"""What admin lab access adds: scopes (every user holds both on themselves), the API, and the
spawner settings hubconfig applies."""

from __future__ import annotations

from .grants import CLIENT_ALLOWED_SCOPES, CONSENT_SCOPE, ENTER_SCOPE, install  # noqa: F401
from .handlers import AccessStateAPIHandler, ConsentAPIHandler

SCOPES = {
    ENTER_SCOPE: {"description": "Open the lab (every user on their own; admins while allowed)"},
    CONSENT_SCOPE: {"description": "Allow or stop administrator access to the lab"},
}
USER_SCOPES = [f"{ENTER_SCOPE}!user", f"{CONSENT_SCOPE}!user"]
NAV: list = []


def handlers(settings):
    return [
        (r"/api/users/([^/]+)/lab-access", AccessStateAPIHandler),
        (r"/api/users/([^/]+)/lab-access/consent", ConsentAPIHandler),
    ]
