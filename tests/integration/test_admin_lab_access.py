"""The operator's "notified" mode of admin access on a real hub and lab (the consent gate itself is a
scenario on both backends: tests/scenarios/test_running_labs.py)."""

from __future__ import annotations

import html
import json
import re

import requests
from harness import PASSWORD


def open_lab(hub, session: requests.Session, owner: str) -> requests.Response:
    """What a browser does to open /user/<owner>/lab: follow the OAuth dance, confirming the
    hub's "authorize access" page when it asks (it does for someone else's lab)."""
    r = session.get(hub.base + f"user/{owner}/lab", timeout=120)
    if r.status_code == 200 and "oauth2/authorize" in r.url and "<form" in r.text:
        fields = [
            (html.unescape(n), html.unescape(v))
            for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text)
        ]
        r = session.post(r.url, data=fields, timeout=120)
    return r


def lab_opened(r: requests.Response, owner: str) -> bool:
    return r.status_code == 200 and f"/user/{owner}/lab" in r.url and "jupyter-config-data" in r.text


def admin_fresh(hub) -> requests.Session:
    """A new browser session of the admin (no cookie from an earlier attempt at the lab)."""
    return hub.login(hub.admin, PASSWORD)


def audit(hub) -> list[dict]:
    return [json.loads(line) for line in (hub.data_dir / "audit.log").read_text().splitlines()]


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
