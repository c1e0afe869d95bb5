"""JUPYTERHUB_LAB_SHARING=0: nobody makes a share or an invitation that opens a lab, and the home
page offers no sharing."""

from __future__ import annotations

HUB_ENV = {"JUPYTERHUB_LAB_SHARING": "0"}


def test_sharing_off_refuses_shares_that_open_a_lab(hub):
    owner, session = hub.new_user("off")
    other, _ = hub.new_user("oth")
    hub.start_server(session, owner)
    for route, body in (("shares", {"user": other}), ("share-codes", {})):
        r = hub.api(session, "POST", f"{route}/{owner}/", json=body)
        assert r.status_code == 403 and "turned off" in r.json()["message"], r.text
    assert hub.api(session, "GET", f"users/{owner}/sharing").json()["enabled"] is False
    assert 'id="lab-sharing"' not in session.get(hub.hub_url + "home").text
