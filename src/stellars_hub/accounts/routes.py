"""What the accounts feature adds to the hub: navigation to the account pages and its API."""

from .api import CredentialsAPIHandler, DeleteUserAPIHandler, KeptVolumesAPIHandler

SCOPES: dict = {}
USER_SCOPES: list[str] = []
# admin entries first (they follow JupyterHub's Admin link), then everyone's
NAV = [
    {"id": "authorize", "label": "Authorize Users", "path": "authorize", "admin": True, "order": 10},
    {"id": "change-password", "label": "Change Password", "path": "change-password", "admin": False, "order": 90},
]


def handlers(settings):
    return [
        (r"/api/admin/credentials", CredentialsAPIHandler),
        (r"/api/admin/users/([^/]+)", DeleteUserAPIHandler),
        (r"/api/admin/kept-volumes", KeptVolumesAPIHandler),
        (r"/api/admin/kept-volumes/([^/]+)", KeptVolumesAPIHandler),
    ]
