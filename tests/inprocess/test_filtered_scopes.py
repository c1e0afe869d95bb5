"""A filtered scope (``admin:users!user=<one user>``) never grants an action on everyone, and
generated passwords expire on a timer and are never cached by a browser."""

from __future__ import annotations

import asyncio

from harness import unique_name

from stellars_hub.accounts.credentials import CredentialCache

EVERYONE_ROUTES = [  # (method, path, json body)
    ("GET", "activity", None),
    ("POST", "activity/reset", None),
    ("GET", "settings", None),
    ("GET", "notifications/active-servers", None),
    ("GET", "notifications/history", None),
    ("POST", "notifications/broadcast", {"message": "hello", "type": "info"}),
    ("POST", "admin/credentials", {"usernames": ["x"]}),
    ("GET", "admin/kept-volumes", None),
]


def test_filtered_admin_scopes_never_grant_actions_on_everyone(hub):
    name, _ = hub.new_user("bob")
    filtered = ["admin:users!user=" + name, "admin:servers!user=" + name, "read:users!user=" + name]
    narrow = hub.token_for(hub.admin, filtered)
    full = hub.token_for(hub.admin)
    for method, path, body in EVERYONE_ROUTES:
        r = hub.api(None, method, path, token=narrow, json=body)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "scope" in r.json()["message"]
    # the same routes with the unfiltered scopes: allowed (proves the 403s above are about the filter)
    for method, path, _body in EVERYONE_ROUTES:
        if method == "GET":
            assert hub.api(None, method, path, token=full).status_code == 200, path
    # the filtered token still acts on its one user
    assert hub.api(None, "GET", f"users/{name}", token=narrow).status_code == 200


def test_credentials_response_is_not_cached(hub):
    admin = hub.admin_session()
    new = unique_name("cred")
    assert hub.api(admin, "POST", "users", json={"usernames": [new]}).status_code == 201
    r = hub.api(admin, "POST", "admin/credentials", json={"usernames": [new]})
    assert r.status_code == 200 and r.json()["credentials"]
    assert r.headers["Cache-Control"] == "no-store"


async def test_generated_passwords_leave_memory_on_their_timer_without_any_access():
    cache = CredentialCache(ttl=0.2)
    cache.put("ann", "secret-words-here")
    assert "ann" in cache._entries
    await asyncio.sleep(0.5)
    assert "ann" not in cache._entries  # gone though nobody called get() or len()
