"""Named servers in the day-to-day operations, on a real hub, engine and labs: one user with a
default and a named server. Each server has its own session deadline and extension, the activity
monitor shows a row per server with figures from that server's container, a broadcast reaches
both labs, a batch restart of the named server restarts that container only, and the culler
warns and stops an idle named server while the user's active default server keeps running."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from harness import engine

from stellars_hub import naming

HUB_ENV = {
    "JUPYTERHUB_NAMED_SERVERS": "1",
    "JUPYTERHUB_NAMED_SERVERS_LIMIT": "2",
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",  # nothing is culled in this module's shared hub
    "JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION": "3",
    "JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL": "1",
    "JUPYTERHUB_NOTIFICATIONS_TIMEOUT": "5",
}
QUEUE = "jupyterlab-notifications-extension/notifications"
SERVER = "alpha"


def wait_for(predicate, timeout: float, step: float = 1.0, also=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if also:
            also()
        time.sleep(step)
    return None


def servers(hub, name) -> dict:
    return hub.api(hub.admin_session(), "GET", f"users/{name}").json().get("servers", {})


def start_both(hub, session, name, server=SERVER):
    """The default server and one named server, asked for side by side."""
    for path in (f"users/{name}/server", f"users/{name}/servers/{server}"):
        r = hub.api(session, "POST", path)
        assert r.status_code in (201, 202), r.text
    ready = wait_for(lambda: all(servers(hub, name).get(s, {}).get("ready") for s in ("", server)), 240)
    assert ready, f"the servers of {name} did not both become ready: {servers(hub, name)}"


def container(name, server=""):
    return engine().containers.get(naming.server_container_name(name, server))


@pytest.fixture(scope="module")
def two(hub):
    """One user with the default server and the named server 'alpha' running."""
    name, session = hub.new_user("two")
    start_both(hub, session, name)
    return name, session


def lab_queue(hub, name, server, token) -> list[dict]:
    """Drain what one lab's notifications extension holds (its own endpoint, through the proxy)."""
    prefix = f"user/{name}/{server}/" if server else f"user/{name}/"
    r = requests.get(hub.base + prefix + QUEUE, headers={"Authorization": f"token {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["notifications"]


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_each_server_has_its_own_session_and_extension(hub, two):
    name, session = two
    default = hub.api(session, "GET", f"users/{name}/session-info").json()
    named = hub.api(session, "GET", f"users/{name}/servers/{SERVER}/session-info").json()
    assert default["server_active"] and named["server_active"]
    assert "server" not in default and named["server"] == SERVER  # the default answer is unchanged
    assert default["extension_used_hours"] == 0 and named["extension_used_hours"] == 0

    r = hub.api(session, "POST", f"users/{name}/servers/{SERVER}/extend-session", json={"hours": 2})
    assert r.status_code == 200, r.text
    assert r.json()["granted_hours"] == 2 and r.json()["server"] == SERVER
    named_after = hub.api(session, "GET", f"users/{name}/servers/{SERVER}/session-info").json()
    default_after = hub.api(session, "GET", f"users/{name}/session-info").json()
    assert named_after["extension_used_hours"] == 2 and named_after["extension_available_hours"] == 1
    moved = parse(named_after["deadline"]) - parse(named["deadline"])
    assert timedelta(hours=2) <= moved < timedelta(hours=2, minutes=5)  # + any lab activity since
    assert default_after["extension_used_hours"] == 0 and default_after["extension_available_hours"] == 3
    assert parse(default_after["deadline"]) - parse(default["deadline"]) < timedelta(minutes=5)  # not extended

    # the allowance is per server: the default server still has all of its own
    r = hub.api(session, "POST", f"users/{name}/extend-session", json={"hours": 5})
    assert r.status_code == 200 and r.json()["truncated"] and r.json()["granted_hours"] == 3, r.text
    r = hub.api(session, "POST", f"users/{name}/servers/{SERVER}/extend-session", json={"hours": 5})
    assert r.status_code == 200 and r.json()["granted_hours"] == 1, r.text
    with sqlite3.connect(hub.data_dir / "session.sqlite") as db:
        rows = dict(db.execute("SELECT server, hours FROM session_extensions WHERE username = ?", (name,)))
    assert rows == {"": 3, SERVER: 3}

    # errors: no such server, someone else's server, bad hours
    assert hub.api(session, "GET", f"users/{name}/servers/nope/session-info").status_code == 404
    assert hub.api(session, "POST", f"users/{name}/servers/nope/extend-session", json={"hours": 1}).status_code == 404
    r = hub.api(session, "POST", f"users/{name}/servers/{SERVER}/extend-session", json={"hours": 0})
    assert r.status_code == 400 and "hours" in r.json()["message"]
    other, other_s = hub.new_user("oth")
    assert hub.api(other_s, "GET", f"users/{name}/servers/{SERVER}/session-info").status_code == 403
    r = hub.api(other_s, "POST", f"users/{name}/servers/{SERVER}/extend-session", json={"hours": 1})
    assert r.status_code == 403
    # JupyterHub's server filter: a token for this one server reads its session, not the default's
    token = hub.token_for(name, [f"read:servers!server={name}/{SERVER}"])
    assert hub.api(None, "GET", f"users/{name}/servers/{SERVER}/session-info", token=token).status_code == 200
    assert hub.api(None, "GET", f"users/{name}/session-info", token=token).status_code == 403
    # a user's own session warning request is the culler's only
    assert hub.api(session, "POST", f"users/{name}/servers/{SERVER}/session-warning", json={}).status_code == 403


def test_activity_has_a_row_per_server_with_that_containers_figures(hub, two):
    name, _ = two
    admin = hub.admin_session()

    def rows():
        report = hub.api(admin, "GET", "activity").json()
        return {u["server"]: u for u in report["users"] if u["username"] == name}

    both = wait_for(lambda: (r := rows()) and all(r.get(s, {}).get("memory_mb") for s in ("", SERVER)) and r, 60)
    assert both, rows()
    assert set(both) == {"", SERVER}
    for server in ("", SERVER):
        assert both[server]["server_active"] and both[server]["time_remaining_seconds"] > 3000
    # a busy loop in the named server's container only: its row's CPU rises, the default's does not
    container(name, SERVER).exec_run(["timeout", "60", "sh", "-c", "while :; do :; done"], detach=True)
    burning = wait_for(lambda: (r := rows())[SERVER]["cpu_percent"] > 25 and r, 45)
    assert burning, rows()
    assert burning[""]["cpu_percent"] < 20
    # samples are stored per server
    with sqlite3.connect(hub.data_dir / "activity.sqlite") as db:
        sampled = {s for (s,) in db.execute("SELECT DISTINCT server FROM samples WHERE username = ?", (name,))}
    assert sampled == {"", SERVER}
    metrics = admin.get(hub.hub_url + "metrics").text
    assert f'stellars_activity_named_lab_cpu_percent{{server="{SERVER}",username="{name}"}}' in metrics or (
        f'stellars_activity_named_lab_cpu_percent{{username="{name}",server="{SERVER}"}}' in metrics
    ), metrics[-3000:]
    assert f'stellars_activity_lab_cpu_percent{{username="{name}"}}' in metrics


def test_broadcast_reaches_both_labs(hub, two):
    name, _ = two
    token = hub.token_for(name)
    for server in ("", SERVER):
        lab_queue(hub, name, server, token)  # start from empty queues
    active = hub.api(hub.admin_session(), "GET", "notifications/active-servers").json()["servers"]
    assert {(s["username"], s["server"]) for s in active} >= {(name, ""), (name, SERVER)}

    r = hub.api(hub.admin_session(), "POST", "notifications/broadcast",
                json={"message": "to every lab", "recipients": [name]})
    assert r.status_code == 200, r.text
    details = {(d["username"], d["server"]): d for d in r.json()["details"]}
    assert set(details) == {(name, ""), (name, SERVER)}
    assert all(d["status"] == "delivered" for d in details.values()), details
    for server in ("", SERVER):
        got = [n["message"] for n in lab_queue(hub, name, server, token)]
        assert got == ["to every lab"], (server, got)

    # "all running" reaches the named lab too; history records the server
    r = hub.api(hub.admin_session(), "POST", "notifications/broadcast", json={"message": "everyone"})
    assert r.status_code == 200, r.text
    assert {(name, ""), (name, SERVER)} <= {(d["username"], d["server"]) for d in r.json()["details"]}
    for server in ("", SERVER):
        assert [n["message"] for n in lab_queue(hub, name, server, token)] == ["everyone"]
    history = hub.api(hub.admin_session(), "GET", "notifications/history?limit=1").json()["broadcasts"][0]
    assert {(d["username"], d["server"]) for d in history["details"]} >= {(name, ""), (name, SERVER)}


def test_batch_restart_of_a_named_server_restarts_that_container_only(hub, two):
    name, _ = two
    admin = hub.admin_session()
    before = {s: container(name, s).attrs for s in ("", SERVER)}

    preview = hub.api(admin, "POST", "batch/preview", json={"action": "restart", "all_running": True}).json()
    mine = {r["server"]: r for r in preview["users"] if r["username"] == name}
    assert set(mine) == {"", SERVER} and all(r["applies"] for r in mine.values())
    assert mine[SERVER]["target"] == f"{name}/{SERVER}"

    r = hub.api(admin, "POST", "batch", json={"action": "restart", "servers": [f"{name}/{SERVER}"]}, stream=True)
    assert r.status_code == 200, r.text
    events = [json.loads(line) for line in r.iter_lines() if line]
    result = [e for e in events if e["event"] == "result"]
    assert len(result) == 1, events
    assert result[0]["username"] == name and result[0]["server"] == SERVER and result[0]["outcome"] == "done", events
    after = {s: container(name, s).attrs for s in ("", SERVER)}
    assert after[SERVER]["Id"] == before[SERVER]["Id"] == result[0]["container_id"]  # in place
    assert after[SERVER]["State"]["StartedAt"] != before[SERVER]["State"]["StartedAt"]
    assert after[""]["State"]["StartedAt"] == before[""]["State"]["StartedAt"]  # the default one untouched
    assert servers(hub, name)[SERVER]["ready"]

    # a user with a filtered token on the one server may batch it, not the user's other server
    token = hub.token_for(name, [f"servers!server={name}/{SERVER}"])
    r = hub.api(None, "POST", "batch/preview", token=token, json={"action": "restart", "servers": [f"{name}/{SERVER}"]})
    assert r.status_code == 200, r.text
    r = hub.api(None, "POST", "batch/preview", token=token, json={"action": "restart", "servers": [f"{name}/"]})
    assert r.status_code == 403, r.text
    r = hub.api(admin, "POST", "batch/preview", json={"action": "restart", "servers": [f"{name}/nope"]})
    assert r.status_code == 400 and r.json()["message"].startswith("servers:"), r.text

    # stop a chosen user: every server of theirs that runs
    r = hub.api(admin, "POST", "batch", json={"action": "stop", "users": [name]}, stream=True)
    events = [json.loads(line) for line in r.iter_lines() if line]
    done = {(e["username"], e["server"]) for e in events if e["event"] == "result" and e["outcome"] == "done"}
    assert done == {(name, ""), (name, SERVER)}, events
    left = wait_for(lambda: not servers(hub, name) and True, 60)
    assert left, servers(hub, name)


CULL_TIMEOUT, CULL_INTERVAL, CULL_WARNING = 30, 2, 12


def test_culler_warns_and_stops_an_idle_named_server_and_leaves_the_active_default(make_hub):
    hub = make_hub(
        JUPYTERHUB_NAMED_SERVERS="1",
        JUPYTERHUB_IDLE_CULLER_ENABLED="1",
        JUPYTERHUB_IDLE_CULLER_TIMEOUT=str(CULL_TIMEOUT),
        JUPYTERHUB_IDLE_CULLER_INTERVAL=str(CULL_INTERVAL),
        JUPYTERHUB_IDLE_CULLER_WARNING=str(CULL_WARNING),
    )
    hub.admin_session()
    name, session = hub.new_user("cul")
    start_both(hub, session, name, "idle")
    token = hub.token_for(name)

    def keep_default_busy():
        now = datetime.now(timezone.utc).isoformat()
        r = hub.api(None, "POST", f"users/{name}/activity", token=token, json={"servers": {"": {"last_activity": now}}})
        assert r.status_code in (200, 204), r.text

    def direct_queue():
        """The named lab's queue read on its own address, so reading is not traffic the hub counts."""
        env = dict(e.split("=", 1) for e in container(name, "idle").attrs["Config"]["Env"])
        url = env["JUPYTERHUB_SERVICE_URL"].rstrip("/") + "/" + QUEUE
        r = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["notifications"]

    keep_default_busy()
    seen: list[dict] = []
    assert wait_for(lambda: seen.extend(direct_queue()) or seen, CULL_TIMEOUT + 15 * CULL_INTERVAL,
                    also=keep_default_busy), "no warning reached the named lab"
    assert "will be stopped" in seen[0]["message"]
    assert any(f"warned {name}/idle:" in line for line in hub.log_text().splitlines())

    # a stopped named server is no longer among the user's servers (the hub keeps it to start again)
    stopped = wait_for(lambda: "idle" not in servers(hub, name), CULL_TIMEOUT + 15 * CULL_INTERVAL,
                       also=keep_default_busy)
    assert stopped, servers(hub, name)
    assert any(f"culled {name}/idle:" in line for line in hub.log_text().splitlines())
    assert not engine().containers.list(all=True, filters={"name": f"^/{naming.server_container_name(name, 'idle')}$"})
    # more passes go by: the default server, active all along, keeps running
    for _ in range(3 * CULL_INTERVAL):
        keep_default_busy()
        time.sleep(1)
    assert servers(hub, name)[""]["ready"]
    assert not any(f"culled {name}:" in line for line in hub.log_text().splitlines())
