"""What admin lab access adds: scopes (every user holds both on themselves), the API, the labs'
auth recheck interval, and the sweep that ends expired access. The scope a lab requires and its
OAuth client may grant is the spawners' default (lab.mixin.lab_scopes)."""

from __future__ import annotations

from ..feature import Feature
from .config import LabAccess
from .grants import CONSENT_SCOPE, ENTER_SCOPE, sweep
from .handlers import AccessStateAPIHandler, ConsentAPIHandler
from .lifecycle import user_deleted, user_renamed
from .store import store_for

RECHECK_ARG = "--HubOAuth.cache_max_age"


def _configure(c, s, setdefault) -> None:
    # a lab caches the hub's answer about a cookie's token; withdrawing access deletes the
    # admin's tokens, which bites only once that cache lapses (a site's own args are kept)
    args = list(c.Spawner.args) if "args" in c.Spawner else []
    if not any(a.startswith(RECHECK_ARG) for a in args):
        c.Spawner.args = [*args, f"{RECHECK_ARG}={s(LabAccess).recheck_seconds}"]


FEATURE = Feature(
    name="access",
    config_classes=(LabAccess,),
    scopes={
        ENTER_SCOPE: {
            "description": "Open the lab (every user on their own; admins while allowed; whoever the owner shared it with)"
        },
        CONSENT_SCOPE: {"description": "Allow or stop administrator access to the lab"},
    },
    user_scopes=(f"{ENTER_SCOPE}!user", f"{CONSENT_SCOPE}!user"),
    handlers=(
        (r"/api/users/([^/]+)/lab-access", AccessStateAPIHandler),
        (r"/api/users/([^/]+)/lab-access/consent", ConsentAPIHandler),
    ),
    configure=_configure,
    background=(sweep,),
    on_user_renamed=user_renamed,
    on_user_deleted=user_deleted,
    record_users=lambda platform: store_for(platform).user_names(),
)
