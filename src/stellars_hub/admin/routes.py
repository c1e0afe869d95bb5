"""What the admin feature adds to the hub: Settings page and API, health, navigation."""

from __future__ import annotations

from .handlers import SETTINGS_SCOPE, HealthHandler, SettingsAPIHandler, SettingsPage

SCOPES = {SETTINGS_SCOPE: {"description": "Read the hub's effective settings (secrets masked)"}}
USER_SCOPES: list[str] = []
# after Authorize Users (10), Activity (20) and Notifications (30); before Change Password (90)
NAV = [{"id": "settings", "label": "Settings", "path": "settings", "admin": True, "order": 40}]

# Routes that must win over JupyterHub's own handler for the same path: JupyterHub serves a
# /hub/health that always says 200, and extra_handlers come after its defaults, so these are
# registered through the authenticator's get_handlers (which JupyterHub puts first).
PRIORITY_HANDLERS = [(r"/health", HealthHandler)]


def handlers(settings):
    return [
        (r"/settings", SettingsPage),
        (r"/api/settings", SettingsAPIHandler),
    ]
