"""Idle culling on a real hub, timeouts made short: the culler's service and scopes, the extension
arithmetic and its persistence, the maximum age, culling off (idle labs warned and stopped, active
and extended ones kept, are a scenario on both backends: tests/scenarios/test_idle_culling.py)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

import requests
from harness import engine, wait_for

from stellars_hub import naming

TIMEOUT, INTERVAL, WARNING, HOUR, MAX_EXT = 30, 2, 12, 20, 3
CULLER_ENV = {
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": str(TIMEOUT),
    "JUPYTERHUB_IDLE_CULLER_INTERVAL": str(INTERVAL),
    "JUPYTERHUB_IDLE_CULLER_WARNING": str(WARNING),
    "JUPYTERHUB_IDLE_CULLER_HOUR_SECONDS": str(HOUR),  # one "hour" of extension lasts 20 s here
    "JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION": str(MAX_EXT),
}
HUB_ENV = CULLER_ENV  # the module's shared hub (conftest) runs with the culler on


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def start(hub, session, name):
    r = hub.api(session, "POST", f"users/{name}/server")
    assert r.status_code in (201, 202), r.text


def server_model(hub, name) -> dict | None:
    return hub.api(hub.admin_session(), "GET", f"users/{name}").json().get("servers", {}).get("")


def running(hub, name) -> bool:
    server = server_model(hub, name)
    return bool(server and server.get("ready"))


def stopped(hub, name) -> bool:
    """Fully stopped: no server at all (a stopping one is not ready, but still there)."""
    return server_model(hub, name) is None


def session_info(hub, session, name) -> dict:
    r = hub.api(session, "GET", f"users/{name}/session-info")
    assert r.status_code == 200, r.text
    return r.json()


def extend(hub, session, name, hours):
    return hub.api(session, "POST", f"users/{name}/extend-session", json={"hours": hours})


def report_activity(hub, name, token):
    r = hub.api(
        None, "POST", f"users/{name}/activity", token=token, json={"servers": {"": {"last_activity": now_iso()}}}
    )
    assert r.status_code in (200, 204), r.text


def lab_direct_url(name) -> str:
    """The lab's own address (host networking), bypassing the proxy so reading its queue is
    not traffic the hub could count as activity."""
    env = dict(e.split("=", 1) for e in engine().api.inspect_container(naming.container_name(name))["Config"]["Env"])
    return env["JUPYTERHUB_SERVICE_URL"].rstrip("/") + "/"


def drain_queue(name, token) -> list[dict]:
    # untracked: reading the queue is the test's doing, not the lab's activity (the culler asks
    # the lab itself before it warns or stops)
    r = requests.get(
        lab_direct_url(name) + "jupyterlab-notifications-extension/notifications",
        params={"no_track_activity": "1"},
        headers={"Authorization": f"token {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()["notifications"]


def culler_lines(hub, word: str, name: str) -> list[str]:
    return [line for line in hub.log_text().splitlines() if f"idle-culler] {word} {name}:" in line]


def test_culler_runs_as_a_service_with_only_the_scopes_it_needs(hub):
    service = hub.api(hub.admin_session(), "GET", "services/idle-culler").json()
    assert service["roles"] == ["idle-culler"]
    # JupyterHub has no roles API: read the role the hub stored in its own database
    with sqlite3.connect(hub.data_dir / "jupyterhub.sqlite") as db:
        (scopes,) = db.execute("SELECT scopes FROM roles WHERE name = 'idle-culler'").fetchone()
    assert sorted(json.loads(scopes)) == [
        "custom:session:activity",
        "custom:session:warn",
        "delete:servers",
        "list:users",
        "read:servers",
    ]
    assert "idle culler: timeout 30 s, every 2 s" in hub.log_text()


def test_extension_arithmetic_permissions_and_persistence(hub):
    name, session = hub.new_user("arith")
    other, other_s = hub.new_user("other")
    admin = hub.admin_session()

    # not running: nothing to extend
    assert extend(hub, session, name, 1).status_code == 409
    info = session_info(hub, session, name)
    assert info["server_active"] is False and info["time_remaining_seconds"] is None
    assert info["extension_available_hours"] == MAX_EXT == info["max_extension_hours"]

    hub.start_server(session, name)
    for bad in (1.5, 0, -2, "2", True, None, 10**12):
        r = extend(hub, session, name, bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.headers["Content-Type"].startswith("application/json") and r.json()["message"]
    r = hub.api(session, "POST", f"users/{name}/extend-session", data="not json")
    assert r.status_code == 400

    # self or admin only
    assert extend(hub, other_s, name, 1).status_code == 403
    assert hub.api(other_s, "GET", f"users/{name}/session-info").status_code in (403, 404)
    assert extend(hub, admin, "nosuchuser", 1).status_code == 404

    first = extend(hub, session, name, 1).json()
    assert (first["extension_used_hours"], first["extension_available_hours"], first["truncated"]) == (1, 2, False)
    second = extend(hub, admin, name, 1).json()  # an admin extends for the user: it adds up
    assert (second["extension_used_hours"], second["extension_available_hours"]) == (2, 1)
    cut = extend(hub, session, name, 3)
    assert cut.status_code == 200
    cut = cut.json()
    assert cut["truncated"] is True and cut["granted_hours"] == 1
    assert (cut["extension_used_hours"], cut["extension_available_hours"]) == (3, 0)
    assert "Only 1 hour" in cut["message"]
    refused = extend(hub, session, name, 1)
    assert refused.status_code == 409 and "starts afresh" in refused.json()["message"]

    # a hub restart keeps the extensions of the running server
    hub.stop()
    hub.start()
    assert session_info(hub, session, name)["extension_used_hours"] == 3

    # a new server start gets a fresh allowance
    hub.stop_server(session, name)
    hub.start_server(session, name)
    info = session_info(hub, session, name)
    assert (info["extension_used_hours"], info["extension_available_hours"]) == (0, MAX_EXT)
    assert extend(hub, session, name, 2).json()["extension_used_hours"] == 2
    hub.stop_server(session, name)


def test_max_age_stops_an_active_lab(make_hub):
    hub = make_hub(
        **{
            **CULLER_ENV,
            "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",
            "JUPYTERHUB_IDLE_CULLER_MAX_AGE": "45",
            "JUPYTERHUB_IDLE_CULLER_HOUR_SECONDS": "3600",
        }
    )
    name, session = hub.new_user("old")
    hub.start_server(session, name)
    token = hub.token_for(name)
    report_activity(hub, name, token)
    info = extend(hub, session, name, 1).json()  # extensions do not move the age limit
    assert info.get("stop_reason") == "max-age" and info["time_remaining_seconds"] <= 45, info
    assert wait_for(lambda: stopped(hub, name), 120, step=1, also=lambda: report_activity(hub, name, token))
    lines = culler_lines(hub, "culled", name)
    assert lines and "maximum age" in lines[0]


def test_culling_off_means_no_countdown_and_no_extension(make_hub):
    hub = make_hub()  # JUPYTERHUB_IDLE_CULLER_ENABLED defaults to 0
    name, session = hub.new_user("off")
    info = session_info(hub, session, name)
    assert info["culler_enabled"] is False and info["time_remaining_seconds"] is None
    r = extend(hub, session, name, 1)
    assert r.status_code == 409 and "idle culling is off" in r.json()["message"]
    assert hub.api(hub.admin_session(), "GET", "services/idle-culler").status_code == 404
