"""Admin access to a user's lab on a real hub and lab: refused without consent, allowed with it
(and the user is notified in their lab), refused again once consent is withdrawn; the
operator's "notified" mode; the user's own access unchanged."""

from __future__ import annotations

import html
import json
import re
import time

import requests

from harness import PASSWORD


def open_lab(hub, session: requests.Session, owner: str) -> requests.Response:
    """What a browser does to open /user/<owner>/lab: follow the OAuth dance, confirming the
    hub's "authorize access" page when it asks (it does for someone else's lab)."""
    r = session.get(hub.base + f"user/{owner}/lab", timeout=120)
    if r.status_code == 200 and "oauth2/authorize" in r.url and "<form" in r.text:
        fields = [(html.unescape(n), html.unescape(v)) for n, v in
                  re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text)]
        r = session.post(r.url, data=fields, timeout=120)
    return r


def lab_opened(r: requests.Response, owner: str) -> bool:
    return r.status_code == 200 and f"/user/{owner}/lab" in r.url and "jupyter-config-data" in r.text


def admin_fresh(hub) -> requests.Session:
    """A new browser session of the admin (no cookie from an earlier attempt at the lab)."""
    return hub.login(hub.admin, PASSWORD)


def audit(hub) -> list[dict]:
    return [json.loads(line) for line in (hub.data_dir / "audit.log").read_text().splitlines()]


def test_consent_grants_and_withdrawal_ends_admin_access(hub):
    admin = hub.admin_session()
    bob, bob_session = hub.new_user("la")
    hub.start_server(bob_session, bob)
    assert lab_opened(open_lab(hub, bob_session, bob), bob)  # the owner, as always

    refused = open_lab(hub, admin_fresh(hub), bob)
    assert refused.status_code == 403 and not lab_opened(refused, bob)
    r = hub.api(admin, "POST", f"users/{bob}/lab-access")
    assert r.status_code == 409 and "has not allowed" in r.json()["message"]

    # only bob gives consent, within the allowed hours
    assert hub.api(admin, "PUT", f"users/{bob}/lab-access/consent", json={"hours": 1}).status_code == 403
    assert hub.api(bob_session, "PUT", f"users/{bob}/lab-access/consent", json={"hours": 0}).status_code == 400
    r = hub.api(bob_session, "PUT", f"users/{bob}/lab-access/consent", json={"hours": 1})
    assert r.status_code == 200 and r.json()["consent"] is True

    r = hub.api(admin, "POST", f"users/{bob}/lab-access")
    assert r.status_code == 200, r.text
    assert r.json()["notified"]["status"] == "delivered"  # shown in bob's lab
    state = hub.api(bob_session, "GET", f"users/{bob}/lab-access").json()
    assert [g["admin"] for g in state["grants"]] == [hub.admin]
    inside = admin_fresh(hub)  # the admin's tab, left open in the lab
    assert lab_opened(open_lab(hub, inside, bob), bob)
    contents = hub.base + f"user/{bob}/api/contents"
    assert inside.get(contents, timeout=60).status_code == 200
    assert any(e["action"] == "lab-access" and e["target"] == bob and e["outcome"] == "granted" for e in audit(hub))

    # withdrawn: the role is gone, a new attempt is refused
    r = hub.api(bob_session, "DELETE", f"users/{bob}/lab-access/consent")
    assert r.status_code == 200 and r.json()["grants"] == [] and r.json()["consent"] is False
    assert open_lab(hub, admin_fresh(hub), bob).status_code == 403
    # and the open tab loses the lab once the lab asks the hub again (30 s by default; with
    # JupyterHub's own 300 s cache it would keep working for five minutes)
    deadline = time.monotonic() + 120
    while (code := inside.get(contents, timeout=60).status_code) == 200 and time.monotonic() < deadline:
        time.sleep(2)
    assert code == 403
    assert lab_opened(open_lab(hub, bob_session, bob), bob)


def test_notified_mode_needs_no_consent_but_tells_the_user(make_hub):
    hub = make_hub(JUPYTERHUB_ADMIN_LAB_ACCESS="notified")
    admin = hub.admin_session()
    carol, carol_session = hub.new_user("lb")
    hub.start_server(carol_session, carol)
    assert open_lab(hub, admin_fresh(hub), carol).status_code == 403  # not around the platform
    r = hub.api(admin, "POST", f"users/{carol}/lab-access")
    assert r.status_code == 200 and r.json()["consent"] is False
    assert r.json()["notified"]["status"] == "delivered"
    assert lab_opened(open_lab(hub, admin_fresh(hub), carol), carol)
    line = [e for e in audit(hub) if e["action"] == "lab-access" and e["target"] == carol][-1]
    assert line["outcome"] == "granted" and line["consent"] is False and line["notified"] == "delivered"
