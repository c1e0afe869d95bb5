"""Who may restart, list and reset whose server: JupyterHub scopes, for cookies and tokens."""

from __future__ import annotations

import pytest
import requests

ENDPOINTS = [
    ("POST", "restart-server", None),
    ("GET", "manage-volumes", None),
    ("DELETE", "manage-volumes", {"volumes": ["cache"]}),
]


@pytest.fixture(scope="module")
def people(hub):
    owner, owner_s = hub.new_user("own")
    other, other_s = hub.new_user("oth")
    hub.admin_session()
    return {"owner": (owner, owner_s), "other": (other, other_s)}


def _allowed(resp, method, path):
    """Permission granted: whatever the state says next (409 not running, 200 ...), never 403."""
    return resp.status_code != 403 and resp.status_code != 401


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_anonymous_403(hub, people, method, path, body):
    owner, _ = people["owner"]
    r = requests.request(method, hub.hub_url + f"api/users/{owner}/{path}", json=body)
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("application/json") and r.json()["status"] == 403


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_other_user_403_self_and_admin_allowed(hub, people, method, path, body):
    owner, owner_s = people["owner"]
    _, other_s = people["other"]
    r = hub.api(other_s, method, f"users/{owner}/{path}", json=body)
    assert r.status_code == 403 and "may not" in r.json()["message"]
    assert _allowed(hub.api(owner_s, method, f"users/{owner}/{path}", json=body), method, path)
    assert _allowed(hub.api(hub.admin_session(), method, f"users/{owner}/{path}", json=body), method, path)


SCOPED = {
    ("POST", "restart-server"): ("servers!user={u}", "read:servers!user={u}"),
    ("GET", "manage-volumes"): ("custom:volumes:read!user={u}", "read:servers!user={u}"),
    ("DELETE", "manage-volumes"): ("custom:volumes:reset!user={u}", "custom:volumes:read!user={u}"),
}


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_tokens_need_the_matching_scope(hub, people, method, path, body):
    owner, _ = people["owner"]
    good, bad = (s.format(u=owner) for s in SCOPED[(method, path)])
    with_scope = hub.token_for(owner, [good])
    without = hub.token_for(owner, [bad])
    assert _allowed(hub.api(None, method, f"users/{owner}/{path}", token=with_scope, json=body), method, path)
    r = hub.api(None, method, f"users/{owner}/{path}", token=without, json=body)
    assert r.status_code == 403
    # a token of the owner scoped to the owner cannot reach another user
    other, _ = people["other"]
    r = hub.api(None, method, f"users/{other}/{path}", token=with_scope, json=body)
    assert r.status_code == 403


@pytest.mark.parametrize("method,path,body", [e for e in ENDPOINTS if e[0] != "GET"])
def test_cookie_requests_without_xsrf_refused(hub, people, method, path, body):
    owner, owner_s = people["owner"]
    r = owner_s.request(method, hub.hub_url + f"api/users/{owner}/{path}", json=body)  # no X-XSRFToken
    assert r.status_code == 403 and "xsrf" in r.json()["message"].lower()


def test_manage_page_self_admin_other_anonymous(hub, people):
    owner, owner_s = people["owner"]
    _, other_s = people["other"]
    assert owner_s.get(hub.hub_url + f"manage/{owner}").status_code == 200
    assert hub.admin_session().get(hub.hub_url + f"manage/{owner}").status_code == 200
    assert other_s.get(hub.hub_url + f"manage/{owner}").status_code == 403
    r = requests.get(hub.hub_url + f"manage/{owner}", allow_redirects=False)
    assert r.status_code == 302 and "/hub/login" in r.headers["Location"]
