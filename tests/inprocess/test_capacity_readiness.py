"""Admission and its readiness warning, on the in-process hub: the start past the limit is
refused with the message before any container exists (default and named servers), the anonymous
probe learns nothing that depends on how many labs run, an admin reads the warning, a plain user
gets the anonymous answer; with ``JUPYTERHUB_MAX_LABS=0`` the limit follows the engine's memory
and the labs' measured use. The real engine's test (every path, two starts at once):
tests/integration/test_lab_capacity.py."""

from __future__ import annotations

import requests

from stellars_hub import naming

GiB, MiB = 2**30, 2**20


def readiness(hub, session=None) -> dict:
    r = (session or requests).get(hub.hub_url + "readiness", timeout=20)
    assert r.status_code == 200, r.text  # a full host is a warning: the hub itself works
    return r.json()


def refused(hub, session, path: str, limit: int) -> None:
    r = hub.api(session, "POST", path)
    assert r.status_code == 503, r.text
    assert f"as many labs as it can hold ({limit})" in r.json()["message"], r.text
    assert r.headers.get("Retry-After") == "60"


def test_the_start_past_the_maximum_is_refused_and_the_full_host_is_said_to_admins_only(make_hub):
    hub = make_hub(JUPYTERHUB_MAX_LABS="1", JUPYTERHUB_NAMED_SERVERS="1")
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
        refused(hub, bob_s, f"users/{bob}/server", 1)
        refused(hub, bob_s, f"users/{bob}/servers/y", 1)  # a named server: the same place count
        refused(hub, alice_s, f"users/{alice}/servers/x", 1)  # alice's second lab too
        page = bob_s.get(hub.hub_url + f"spawn/{bob}", timeout=60)
        assert "as many labs as it can hold (1)" in page.text
        for name, server in ((bob, ""), (bob, "y"), (alice, "x")):  # nothing was created for them
            assert hub.runtime.find(naming.server_container_name(name, server)) is None
        assert hub.api(bob_s, "GET", f"users/{bob}").json()["servers"] == {}
    finally:
        hub.stop_server(alice_s, alice)
    assert "warnings" not in readiness(hub, admin)
    hub.start_server(bob_s, bob)  # the place is free again
    hub.stop_server(bob_s, bob)


def test_by_default_the_limit_follows_the_engines_memory(make_hub):
    hub = make_hub()  # JUPYTERHUB_MAX_LABS=0
    # an engine of 2 GiB whose labs use 512 MiB each: less the reserve (1 GiB), room for 2
    hub.runtime.memory, hub.runtime.lab_memory = 2 * GiB, 512 * MiB
    admin = hub.admin_session()
    people = [hub.new_user(f"d{i}") for i in range(3)]
    for name, session in people[:2]:
        hub.start_server(session, name)
    try:
        refused(hub, people[2][1], f"users/{people[2][0]}/server", 2)
        warning = readiness(hub, admin)["warnings"]["labs"]
        assert "JUPYTERHUB_MAX_LABS=0" in warning and "2.0 GiB" in warning and "512 MiB per lab" in warning, warning
    finally:
        for name, session in people[:2]:
            hub.stop_server(session, name)
    assert hub.runtime.calls["engine_memory"] == 1  # read once, not at every start
