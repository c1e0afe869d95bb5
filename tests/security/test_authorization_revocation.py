"""Authorisation is a POST with the XSRF token, and deleting a user ends what they hold: browser
session, API tokens. Each is audited (un-authorising, which also stops the lab, is a scenario on
both backends: tests/scenarios/test_user_accounts.py)."""

from __future__ import annotations

import json

import requests
from harness import engine, unique_name


def _authorised(hub, name) -> bool:
    page = hub.admin_session().get(hub.hub_url + "authorize").text
    row = page.split(f'id="user-{name}"', 1)[1].split("</tr>", 1)[0]
    return ">Authorised<" in row


def _audit(hub) -> list[dict]:
    path = hub.data_dir / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _lab_running(name) -> bool:
    return bool(engine().containers.list(filters={"name": f"jupyterlab-{name}", "status": "running"}))


def _signup(hub, name):
    r = hub.signup(name)
    assert r.status_code == 200


def test_toggle_is_a_post_with_xsrf_and_get_changes_nothing(hub):
    admin = hub.admin_session()
    pending = unique_name("pend")
    _signup(hub, pending)
    # a link on another site, followed by the admin's browser: a top-level GET with the cookies
    r = admin.get(
        hub.hub_url + f"authorize/{pending}",
        headers={"Referer": "https://evil.example/", "Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 405
    # a cross-site form POST carries the cookies but cannot know the XSRF token
    r = admin.post(hub.hub_url + f"authorize/{pending}", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert not _authorised(hub, pending)
    assert hub.login_status(pending) == 200  # still waiting
    r = admin.post(
        hub.hub_url + "authorize/nobody-" + unique_name("x"),
        data={"_xsrf": admin.cookies.get("_xsrf", path=hub._cookie_path())},
    )
    assert r.status_code == 404
    hub.authorize(pending)
    assert _authorised(hub, pending)
    # the configured admin cannot be un-authorised
    r = admin.post(
        hub.hub_url + f"authorize/{hub.admin}", data={"_xsrf": admin.cookies.get("_xsrf", path=hub._cookie_path())}
    )
    assert r.status_code == 409 and "configured administrator" in r.text
    assert _authorised(hub, hub.admin)
    # email approval links (a GET that authorises) are not served
    assert admin.get(hub.hub_url + f"confirm/{pending}").status_code == 404


def test_deleting_a_user_ends_token_and_session_and_is_audited(hub):
    admin = hub.admin_session()
    name, session = hub.new_user("gone")
    token = hub.token_for(name)
    assert hub.api(admin, "DELETE", f"users/{name}").status_code == 204
    assert hub.api(session, "GET", "user").status_code in (401, 403)
    assert hub.api(None, "GET", "user", token=token).status_code in (401, 403)
    assert any(e["target"] == name and e["action"] == "delete-user" for e in _audit(hub))
    assert requests.get(hub.hub_url + "api/").status_code == 200
