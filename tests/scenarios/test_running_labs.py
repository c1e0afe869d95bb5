"""A user's labs from start to stop, on both backends: a default and a named server started side by
side, each a lab of its own (container or pod) with its own volumes; Restart Server in place;
each server's own session and extension; a broadcast reaching both; the activity monitor's and
the usage report's figures from the engine; admins kept out without consent; a batch restart of
one server and a batch stop of all; files kept across stop and start; a reset of chosen volumes
only. The two labs are started once and shared by the module's scenarios, in order."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from harness import audit, wait_for
from labvisit import open_lab
from labvisit import opened as lab_opened
from steps import (
    admin_browser,
    lab_queue,
    run_batch,
    servers,
    start,
    start_all,
)

from stellars_hub import naming
from stellars_hub.usage.report import epoch
from stellars_hub.usage.store import UsageRecords

HUB_ENV = {
    "JUPYTERHUB_NAMED_SERVERS": "1",
    "JUPYTERHUB_NAMED_SERVERS_LIMIT": "1",
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",  # nothing is culled here
    "JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION": "3",
    "JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL": "1",
    "JUPYTERHUB_ACTIVITYMON_INACTIVE_AFTER": "1",  # minutes: amber within the module
    "JUPYTERHUB_USAGE_SAMPLE_INTERVAL": "2",
    "JUPYTERHUB_NOTIFICATIONS_TIMEOUT": "5",
    "JUPYTERHUB_RESTART_READY_TIMEOUT": "180",
}
SERVER = "alpha"
FILES = {"home": "/home/lab/home-file", "workspace": "/home/lab/workspace/work-file"}


@pytest.fixture(scope="module")
def ann(hub):
    """One user ('.' in the name exercises the escaping) with the default server and the named
    server 'alpha' running."""
    name, session = hub.new_user("life.")
    start_all(hub, [(session, name, ""), (session, name, SERVER)])
    return name, session


def lab_names(name: str) -> dict[str, str]:
    return {server: naming.server_container_name(name, server) for server in ("", SERVER)}


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_each_server_is_a_lab_of_its_own_with_its_own_volumes(hub, lab_engine, ann):
    name, _ = ann
    esc = naming.escape_name(name)
    labs = {server: lab_engine.lab(lab) for server, lab in lab_names(name).items()}
    assert labs[""] is not None and labs[SERVER] is not None, f"no lab named {lab_names(name)}"
    assert labs[""].running and labs[SERVER].running and labs[""].id != labs[SERVER].id
    assert {t: m.source for t, m in labs[""].mounts.items()} == {
        "/home": f"jupyterlab-{esc}_home",
        "/home/lab/workspace": f"jupyterlab-{esc}_workspace",
        "/home/lab/.cache": f"jupyterlab-{esc}_cache",
        "/mnt/shared": naming.SHARED_VOLUME,
    }
    assert {t: m.source for t, m in labs[SERVER].mounts.items()} == {
        "/home": f"jupyterlab-{esc}--{SERVER}_home",
        "/home/lab/workspace": f"jupyterlab-{esc}--{SERVER}_workspace",
        "/home/lab/.cache": f"jupyterlab-{esc}--{SERVER}_cache",
        "/mnt/shared": naming.SHARED_VOLUME,
    }
    env = labs[""].env
    for key, value in {
        "JUPYTERHUB_SERVICE_MLFLOW": "1",
        "JUPYTERHUB_SERVICE_TENSORBOARD": "1",
        "JUPYTERHUB_SERVICE_RESOURCES_MONITOR": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MLFLOW_PORT": "5000",
        "ENABLE_GPU_SUPPORT": "0",
        "NVIDIA_VISIBLE_DEVICES": "none",
        "JUPYTERHUB_USER": name,
    }.items():
        assert env.get(key) == value, key
    assert "TENSORBOARD_LOGDIR" in env and "MLFLOW_TRACKING_URI" in env
    assert labs[SERVER].env["JUPYTERHUB_SERVER_NAME"] == SERVER

    # the labs answer through the hub's proxy, run as a non-root user and keep their files apart
    token = hub.token_for(name)
    r = hub.lab(name, "GET", "api/status", token)
    assert r.status_code == 200 and "started" in r.json()
    r = hub.lab(
        name, "PUT", "api/contents/kept.txt", token, json={"type": "file", "format": "text", "content": "still here"}
    )
    assert r.status_code in (200, 201), r.text
    for server, lab in lab_names(name).items():
        code, uid = lab_engine.exec(lab, "id -u")
        assert code == 0 and uid.strip() != "0", (server, uid)
        code, out = lab_engine.exec(lab, f"echo {server or 'default'} > /home/lab/workspace/which.txt")
        assert code == 0, out
    assert lab_engine.exec(lab_names(name)[SERVER], "cat /home/lab/workspace/which.txt")[1].strip() == SERVER
    assert lab_engine.exec(lab_names(name)[""], "cat /home/lab/workspace/kept.txt")[1] == "still here"
    # at most one named server here; an unknown server's operations are 404
    _, session = ann
    assert hub.api(session, "POST", f"users/{name}/servers/gamma").status_code == 400
    assert hub.api(session, "POST", f"users/{name}/servers/nope/restart-server").status_code == 404


def test_restart_server_restarts_the_lab_in_place_and_keeps_its_files(hub, lab_engine, ann):
    name, session = ann
    token = hub.token_for(name)
    r = hub.lab(
        name, "PUT", "api/contents/notes.txt", token, json={"type": "file", "format": "text", "content": "keep me"}
    )
    assert r.status_code in (200, 201), r.text
    before = lab_engine.lab(lab_names(name)[""])
    other = lab_engine.lab(lab_names(name)[SERVER])

    r = hub.api(session, "POST", f"users/{name}/restart-server")
    assert r.status_code == 200, r.text
    body = r.json()

    after = lab_engine.lab(lab_names(name)[""])
    assert after.id == before.id == body["container_id"]  # the same container / pod
    assert after.running and after.started_at != before.started_at
    # the action returns once the lab answers through the hub again, with the files kept
    assert hub.lab(name, "GET", "api/status", token).status_code == 200
    assert hub.lab(name, "GET", "api/contents/notes.txt", token).json()["content"] == "keep me"
    # JupyterHub still considers the server running (it was not stopped and spawned)
    assert hub.api(session, "GET", f"users/{name}").json()["servers"][""]["ready"]
    assert lab_engine.lab(lab_names(name)[SERVER]).started_at == other.started_at  # the named one untouched
    # the named server's own route restarts that lab only
    r = hub.api(session, "POST", f"users/{name}/servers/{SERVER}/restart-server")
    assert r.status_code == 200, r.text
    assert r.json()["container_id"] == other.id and r.json()["url"].endswith(f"/user/{name}/{SERVER}/")
    assert lab_engine.lab(lab_names(name)[SERVER]).started_at != other.started_at
    assert lab_engine.lab(lab_names(name)[""]).started_at == after.started_at
    mine = [a for a in audit(hub) if a["target"] == name and a["action"] == "restart-server"]
    assert [(a["outcome"], a["actor"]) for a in mine] == [("ok", name), ("ok", name)]
    r = hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["home"]})
    assert r.status_code == 409 and "stop it first" in r.json()["message"]  # no reset while it runs


def test_each_server_has_its_own_session_and_extension(hub, ann):
    name, session = ann
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

    # the allowance is per server: the default server still has all of its own
    r = hub.api(session, "POST", f"users/{name}/extend-session", json={"hours": 5})
    assert r.status_code == 200 and r.json()["truncated"] and r.json()["granted_hours"] == 3, r.text
    r = hub.api(session, "POST", f"users/{name}/servers/{SERVER}/extend-session", json={"hours": 5})
    assert r.status_code == 200 and r.json()["granted_hours"] == 1, r.text
    r = hub.api(session, "POST", f"users/{name}/extend-session", json={"hours": 1})
    assert r.status_code == 409 and "starts afresh" in r.json()["message"]
    with sqlite3.connect(hub.data_dir / "session.sqlite") as db:
        rows = dict(db.execute("SELECT server, hours FROM session_extensions WHERE username = ?", (name,)))
    assert rows == {"": 3, SERVER: 3}

    # errors: no such server, someone else's server, bad hours
    assert hub.api(session, "GET", f"users/{name}/servers/nope/session-info").status_code == 404
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


def test_a_broadcast_reaches_every_running_lab(hub, ann):
    name, _ = ann
    token = hub.token_for(name)
    for server in ("", SERVER):
        lab_queue(hub, name, server, token)  # start from empty queues
    admin = hub.admin_session()
    active = hub.api(admin, "GET", "notifications/active-servers").json()["servers"]
    assert {(s["username"], s["server"]) for s in active} >= {(name, ""), (name, SERVER)}

    r = hub.api(admin, "POST", "notifications/broadcast", json={"message": "to every lab", "recipients": [name]})
    assert r.status_code == 200, r.text
    details = {(d["username"], d["server"]): d for d in r.json()["details"]}
    assert set(details) == {(name, ""), (name, SERVER)}
    assert all(d["status"] == "delivered" for d in details.values()), details
    for server in ("", SERVER):
        got = [n["message"] for n in lab_queue(hub, name, server, token)]
        assert got == ["to every lab"], (server, got)

    # "all running" reaches the named lab too; the history records the server
    r = hub.api(admin, "POST", "notifications/broadcast", json={"message": "everyone"})
    assert r.status_code == 200, r.text
    assert {(name, ""), (name, SERVER)} <= {(d["username"], d["server"]) for d in r.json()["details"]}
    for server in ("", SERVER):
        assert [n["message"] for n in lab_queue(hub, name, server, token)] == ["everyone"]
    history = hub.api(admin, "GET", "notifications/history?limit=1").json()["broadcasts"][0]
    assert {(d["username"], d["server"]) for d in history["details"]} >= {(name, ""), (name, SERVER)}


def test_admins_enter_a_lab_only_with_its_owners_consent(hub, ann):
    name, session = ann
    admin = hub.admin_session()
    assert lab_opened(open_lab(hub, session, name), name)  # the owner, as always
    # JupyterHub's admin role alone opens no lab, of either server
    refused = open_lab(hub, admin_browser(hub), name)
    assert refused.status_code == 403 and not lab_opened(refused, name)
    assert open_lab(hub, admin_browser(hub), f"{name}/{SERVER}").status_code == 403
    r = hub.api(admin, "POST", f"users/{name}/lab-access")
    assert r.status_code == 409 and "has not allowed" in r.json()["message"]

    # only the owner gives consent, within the allowed hours
    assert hub.api(admin, "PUT", f"users/{name}/lab-access/consent", json={"hours": 1}).status_code == 403
    assert hub.api(session, "PUT", f"users/{name}/lab-access/consent", json={"hours": 0}).status_code == 400
    r = hub.api(session, "PUT", f"users/{name}/lab-access/consent", json={"hours": 1})
    assert r.status_code == 200 and r.json()["consent"] is True
    r = hub.api(admin, "POST", f"users/{name}/lab-access")
    assert r.status_code == 200, r.text
    assert r.json()["notified"]["status"] == "delivered"  # shown in the owner's lab
    assert [g["admin"] for g in hub.api(session, "GET", f"users/{name}/lab-access").json()["grants"]] == [hub.admin]
    inside = admin_browser(hub)  # the admin's tab, left open in the lab
    assert lab_opened(open_lab(hub, inside, name), name)
    contents = hub.base + f"user/{name}/api/contents"
    assert inside.get(contents, timeout=60).status_code == 200
    assert any(e["action"] == "lab-access" and e["target"] == name and e["outcome"] == "granted" for e in audit(hub))

    # withdrawn: a new attempt is refused, and the open tab loses the lab once the lab asks the
    # hub again (30 s; JupyterHub's own cache would keep it for five minutes)
    r = hub.api(session, "DELETE", f"users/{name}/lab-access/consent")
    assert r.status_code == 200 and r.json()["grants"] == [] and r.json()["consent"] is False
    assert open_lab(hub, admin_browser(hub), name).status_code == 403
    wait_for(lambda: inside.get(contents, timeout=60).status_code == 403, 120, "the open tab refused", step=2)
    assert lab_opened(open_lab(hub, session, name), name)


def test_activity_has_a_row_per_server_with_its_labs_figures(hub, lab_engine, ann):
    name, session = ann
    admin = hub.admin_session()

    def rows():
        report = hub.api(admin, "GET", "activity").json()
        return {u["server"]: u for u in report["users"] if u["username"] == name}

    both = wait_for(
        lambda: (r := rows()) and all((r.get(s) or {}).get("memory_mb") for s in ("", SERVER)) and r,
        120,
        "both labs' memory in the activity report",
    )
    assert set(both) == {"", SERVER}
    for server in ("", SERVER):
        assert both[server]["server_active"] and 3000 < both[server]["time_remaining_seconds"] <= 3600 + 3 * 3600
        assert both[server]["memory_mb"] > 10 and 0 < both[server]["memory_percent"] <= 100
    # a busy loop in the named server's lab only: its row's CPU rises, the default's does not
    lab_engine.spin(lab_names(name)[SERVER], 60)
    seen = []

    def busy():
        seen.append((r := rows()) and (r[""]["cpu_percent"], r[SERVER]["cpu_percent"]))
        # a spinning shell owns a core's clear share even on a busy machine; an idle lab ~0-2 %
        return r[SERVER]["cpu_percent"] >= 10 and r[SERVER]["cpu_percent"] > 3 * r[""]["cpu_percent"] and r

    wait_for(busy, 60, "the named lab's CPU above the default's")
    print("CPU % seen (default, named):", seen)
    with sqlite3.connect(hub.data_dir / "activity.sqlite") as db:
        sampled = {s for (s,) in db.execute("SELECT DISTINCT server FROM samples WHERE username = ?", (name,))}
    assert sampled == {"", SERVER}
    metrics = admin.get(hub.hub_url + "metrics").text
    assert f'stellars_activity_lab_cpu_percent{{username="{name}"}}' in metrics
    assert f'stellars_activity_lab_memory_bytes{{username="{name}"}}' in metrics
    assert "stellars_activity_named_lab_cpu_percent{" in metrics and f'server="{SERVER}"' in metrics
    # the volumes of a running lab are measured (the page's Volumes column, Manage Volumes)
    sized = wait_for(lambda: (r := rows())[""]["volume_bytes"] and r, 150, "the lab's volume sizes")
    assert sized[""]["volume_bytes"] > 0
    listing = wait_for(
        lambda: (
            (v := hub.api(session, "GET", f"users/{name}/manage-volumes").json()["volumes"])
            and all(x["size_bytes"] is not None for x in v)
            and v
        ),
        90,
        "sizes in Manage Volumes",
    )
    assert [v["key"] for v in listing] == ["home", "workspace", "cache"]
    assert all(v["exists"] and v["description"] and v["name"] == naming.volume_name(name, v["key"]) for v in listing)
    assert listing[0]["size_bytes"] > 0  # the home holds the image's files
    # no activity in the lab for more than JUPYTERHUB_ACTIVITYMON_INACTIVE_AFTER: amber
    amber = wait_for(lambda: not (r := rows())[""]["recently_active"] and r, 150, "amber")
    assert amber[""]["server_active"]


def test_a_batch_restarts_one_named_server_in_place_and_stops_every_server(hub, lab_engine, ann):
    name, _ = ann
    admin = hub.admin_session()
    before = {s: lab_engine.lab(lab) for s, lab in lab_names(name).items()}

    preview = hub.api(admin, "POST", "batch/preview", json={"action": "restart", "all_running": True}).json()
    mine = {r["server"]: r for r in preview["users"] if r["username"] == name}
    assert set(mine) == {"", SERVER} and all(r["applies"] for r in mine.values())
    assert mine[SERVER]["target"] == f"{name}/{SERVER}"

    events = run_batch(hub, admin, {"action": "restart", "servers": [f"{name}/{SERVER}"]})
    result = [e for e in events if e["event"] == "result"]
    assert len(result) == 1, events
    assert (result[0]["username"], result[0]["server"], result[0]["outcome"]) == (name, SERVER, "done"), events
    after = {s: lab_engine.lab(lab) for s, lab in lab_names(name).items()}
    assert after[SERVER].id == before[SERVER].id == result[0]["container_id"]  # in place
    assert after[SERVER].started_at != before[SERVER].started_at
    assert after[""].started_at == before[""].started_at  # the default one untouched
    assert servers(hub, name)[SERVER]["ready"]

    # stop a chosen user: every server of theirs that runs; their labs go, their volumes stay
    events = run_batch(hub, admin, {"action": "stop", "users": [name]})
    done = {(e["username"], e["server"]) for e in events if e["event"] == "result" and e["outcome"] == "done"}
    assert done == {(name, ""), (name, SERVER)}, events
    wait_for(lambda: not servers(hub, name), 60, "no server left")
    for lab in lab_names(name).values():
        lab_engine.wait_gone(lab)
    esc = naming.escape_name(name)
    assert lab_engine.volumes(f"jupyterlab-{esc}") == {
        f"jupyterlab-{esc}{part}_{key}" for part in ("", f"--{SERVER}") for key in ("home", "workspace", "cache")
    }
    # the activity page: red, no figures, the last activity still known
    rows = {u["server"]: u for u in hub.api(admin, "GET", "activity").json()["users"] if u["username"] == name}
    for row in rows.values():
        assert not row["server_active"] and row["cpu_percent"] is None and row["memory_mb"] is None
        assert row["last_activity"] is not None
    assert f'stellars_activity_lab_cpu_percent{{username="{name}"}}' not in admin.get(hub.hub_url + "metrics").text


def test_stopped_labs_keep_their_files_and_a_reset_removes_only_the_chosen_volumes(hub, lab_engine, ann):
    name, session = ann
    esc = naming.escape_name(name)
    volumes = naming.user_volume_names(name)
    assert lab_engine.read(volumes["workspace"], "kept.txt") == "still here"  # written by the lab before
    assert lab_engine.read(f"jupyterlab-{esc}--{SERVER}_workspace", "which.txt") == f"{SERVER}\n"

    r = hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["home"]})
    assert r.status_code == 200, r.text
    assert r.json()["volumes"] == [{"volume": "home", "name": volumes["home"], "status": "removed"}]
    assert r.json()["complete"] is True
    r = hub.api(session, "DELETE", f"users/{name}/servers/{SERVER}/manage-volumes", json={"volumes": ["workspace"]})
    assert r.status_code == 200 and r.json()["complete"], r.text
    assert lab_engine.volumes(f"jupyterlab-{esc}") == {
        volumes["workspace"],
        volumes["cache"],
        f"jupyterlab-{esc}--{SERVER}_home",
        f"jupyterlab-{esc}--{SERVER}_cache",
    }
    assert lab_engine.volume_exists(naming.SHARED_VOLUME)  # never touched

    # the next start gets a fresh home and finds the workspace as it was
    start(hub, session, name)
    hub.wait_server(session, name, ready=True, timeout=300)
    lab = naming.container_name(name)
    assert lab_engine.exec(lab, "cat /home/lab/workspace/kept.txt") == (0, "still here")
    assert "home-file" not in lab_engine.exec(lab, "ls -a /home/lab")[1]
    assert lab_engine.volume_exists(volumes["home"])
    resets = [a for a in audit(hub) if a["target"] == name and a["action"] == "reset-volumes"]
    assert [a["outcome"] for a in resets] == ["refused 409", "ok", "ok"]


@pytest.mark.not_on(
    "kubernetes",
    reason="the kubelet measures a claim only while a pod mounts it, so what a "
    "stopped lab left on its volumes is unknown (usage storage, Manage Volumes sizes)",
)
def test_what_a_stopped_lab_left_on_its_volumes_is_measured(hub, ann):
    name, session = ann
    admin = hub.admin_session()
    today = datetime.now(timezone.utc).date().isoformat()
    # the named server stopped in the batch; its volumes are measured without a lab
    listing = wait_for(
        lambda: (
            (v := hub.api(session, "GET", f"users/{name}/servers/{SERVER}/manage-volumes").json()["volumes"])
            and v[0]["size_bytes"]
            and v
        ),
        90,
        "the stopped lab's sizes",
    )
    assert listing[0]["key"] == "home" and listing[0]["size_bytes"] > 0
    storage = wait_for(
        lambda: next(
            u for u in hub.api(admin, "GET", "usage", params={"from": today}).json()["users"] if u["username"] == name
        )["totals"]["storage_bytes"],
        60,
        "storage in usage",
    )
    assert storage > 0  # measured when the labs stopped


def test_usage_counts_the_users_lab_hours_starts_and_memory(hub, ann):
    name, session = ann
    admin = hub.admin_session()
    today = datetime.now(timezone.utc).date().isoformat()

    def totals():
        users = hub.api(admin, "GET", "usage", params={"from": today}).json()["users"]
        return next(u for u in users if u["username"] == name)["totals"]

    # the two first starts and the start after the reset; the restarts in place are no starts
    got = wait_for(lambda: (t := totals())["starts"] == 3 and t["peak_memory_bytes"] and t, 60, "usage totals")
    assert got["lab_hours"] > 0
    assert got["peak_memory_bytes"] > 10 * 2**20  # a JupyterLab uses tens of MB at least
    store = UsageRecords.open(hub.data_dir / "usage.sqlite")
    try:
        kinds = [
            (k, s)
            for (k, s) in store._db.execute(
                "SELECT kind, server FROM events WHERE username = ? AND ts >= ? ORDER BY ts",
                (name, epoch(datetime.now(timezone.utc).date())),
            )
        ]
    finally:
        store.close()
    assert sorted(kinds) == sorted([("start", ""), ("start", SERVER), ("stop", ""), ("stop", SERVER), ("start", "")])
