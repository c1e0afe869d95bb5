"""Readiness at capacity, on the in-process hub: the anonymous probe learns nothing that depends
on how many labs run, an admin reads the warning, a plain user gets the anonymous answer; the
start past the limit is refused with the message (the real engine's test:
tests/integration/test_lab_capacity.py)."""

from __future__ import annotations

import requests

HUB_ENV = {"JUPYTERHUB_MAX_LABS": "1"}


def readiness(hub, session=None) -> dict:
    r = (session or requests).get(hub.hub_url + "readiness", timeout=20)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_full_host_is_said_to_admins_only(hub):
    admin = hub.admin_session()
    alice, alice_s = hub.new_user("ra")
    bob, bob_s = hub.new_user("rb")
    assert "warnings" not in readiness(hub, admin)
    hub.start_server(alice_s, alice)
    try:
        warning = readiness(hub, admin)["warnings"]["labs"]
        assert warning.startswith("at capacity") and "JUPYTERHUB_MAX_LABS=1" in warning, warning
        assert "warnings" not in readiness(hub)  # anonymous
        assert "warnings" not in readiness(hub, bob_s)  # a user without the settings scope
        r = hub.api(bob_s, "POST", f"users/{bob}/server")
        assert r.status_code == 503 and "as many labs as it can hold (1)" in r.json()["message"], r.text
    finally:
        hub.stop_server(alice_s, alice)
    assert "warnings" not in readiness(hub, admin)
