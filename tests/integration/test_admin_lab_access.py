"""The operator's "notified" mode of admin access on a real hub and lab (the consent gate itself is a
scenario on both backends: tests/scenarios/test_running_labs.py)."""

from __future__ import annotations

import requests
from harness import PASSWORD, audit
from labvisit import open_lab
from labvisit import opened as lab_opened


def admin_fresh(hub) -> requests.Session:
    """A new browser session of the admin (no cookie from an earlier attempt at the lab)."""
    return hub.login(hub.admin, PASSWORD)


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
