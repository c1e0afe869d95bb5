"""Batch stop / start / restart on both backends: preview, the streamed progress, one lab failing
while the others finish, bounded concurrency, audit, cancellation, groups, bad input."""

from __future__ import annotations

import json
import threading
import time

import pytest
from steps import run_batch, start_all

from stellars_hub import naming

HUB_ENV = {"JUPYTERHUB_BATCH_CONCURRENCY": "2"}
KUBE_VOLUMES = 0  # nothing here is measured


def results(events):
    return {e["username"]: e for e in events if e["event"] == "result"}


def audit_lines(hub, batch_id):
    return [
        json.loads(line) for line in (hub.data_dir / "audit.log").read_text().splitlines() if f'"{batch_id}"' in line
    ]


@pytest.fixture(scope="module")
def crew(hub):
    admin = hub.admin_session()
    people = [hub.new_user(label) for label in ("ba", "bb", "bc")]
    idle, idle_session = hub.new_user("bd")
    start_all(hub, [(session, name, "") for name, session in people])
    return {
        "admin": admin,
        "names": [n for n, _ in people],
        "sessions": dict(people),
        "idle": idle,
        "idle_session": idle_session,
    }


def test_preview_says_who_is_affected_and_changes_nothing(hub, lab_engine, crew):
    names = crew["names"] + [crew["idle"]]
    r = hub.api(crew["admin"], "POST", "batch/preview", json={"action": "restart", "users": names})
    assert r.status_code == 200, r.text
    rows = {u["username"]: u for u in r.json()["users"]}
    assert r.json()["affected"] == 3
    assert all(rows[n]["applies"] for n in crew["names"])
    assert rows[crew["idle"]] == {
        "username": crew["idle"],
        "server": "",
        "target": crew["idle"],
        "applies": False,
        "reason": "not running",
    }
    started = {n: lab_engine.lab(naming.container_name(n)).started_at for n in crew["names"]}
    r = hub.api(crew["admin"], "POST", "batch/preview", json={"action": "restart", "users": names})
    assert r.status_code == 200, r.text
    assert all(lab_engine.lab(naming.container_name(n)).started_at == started[n] for n in crew["names"])


def test_restart_of_three_with_one_failing(hub, lab_engine, crew):
    a, b, c = crew["names"]
    ids = {n: lab_engine.lab(naming.container_name(n)).id for n in crew["names"]}
    # c's lab dies behind the hub's back (killed in the engine): restarting it in place fails,
    # and c comes first so the hub's periodic poll cannot notice the death before the batch does
    lab_engine.kill(naming.container_name(c))
    events = run_batch(hub, crew["admin"], {"action": "restart", "users": [c, a, b, crew["idle"]]})
    plan = events[0]
    assert plan["event"] == "plan" and plan["users"] == [c, a, b] and plan["concurrency"] == 2
    assert plan["skipped"] == [
        {"username": crew["idle"], "server": "", "target": crew["idle"], "applies": False, "reason": "not running"}
    ]
    res = results(events)
    assert res[a]["outcome"] == res[b]["outcome"] == "done"
    assert res[a]["container_id"] == ids[a]  # restarted in place: same container / pod
    assert res[c]["outcome"] == "failed" and "not running in the engine" in res[c]["error"]
    assert events[-1] == {"event": "finished", "id": plan["id"], "done": 2, "failed": 1, "cancelled": 0}
    for name in (a, b):  # the restarted labs answer again
        assert hub.api(crew["sessions"][name], "GET", f"users/{name}").json()["server"]
    lines = {(e["target"], e["outcome"]) for e in audit_lines(hub, plan["id"]) if e["action"] == "batch-restart"}
    assert {(a, "ok"), (b, "ok"), (c, "failed")} <= lines
    # progress is bounded: never more than 2 users under way at once
    running = peak = 0
    for e in events:
        running += {"progress": 1, "result": -1}.get(e["event"], 0)
        peak = max(peak, running)
    assert peak == 2
    status = hub.api(crew["admin"], "GET", f"batch/{plan['id']}").json()
    assert status["finished"] and [r["outcome"] for r in status["results"]] == ["failed", "done", "done"]


def test_stop_all_running_then_start_them_again(hub, lab_engine, crew):
    a, b, c = crew["names"]
    events = run_batch(hub, crew["admin"], {"action": "stop", "all_running": True})
    assert {a, b} <= set(events[0]["users"]) <= {a, b, c}
    got = results(events)
    assert got[a]["outcome"] == got[b]["outcome"] == "done"
    # the killed lab: stopped with the others, unless the hub noticed its end first (a pod's
    # deletion is seen within seconds, a Docker container's exit at the next poll)
    assert c not in got or got[c]["outcome"] == "done" or got[c]["error"] == "not running", got.get(c)
    for name in crew["names"]:
        assert hub.api(crew["admin"], "GET", f"users/{name}").json()["server"] is None
        # no lab runs (a killed Docker lab's exited container is left for DockerSpawner to replace)
        lab = lab_engine.lab(naming.container_name(name))
        assert lab is None or not lab.running
    events = run_batch(hub, crew["admin"], {"action": "start", "users": crew["names"]})
    assert [results(events)[n]["outcome"] for n in crew["names"]] == ["done"] * 3
    for name in crew["names"]:
        assert hub.api(crew["admin"], "GET", f"users/{name}").json()["server"]


def test_notice_first_and_cancel_during_the_wait(hub, crew):
    box = {}

    def on_event(e):
        if e["event"] == "notified":
            box["notified"] = e
            # cancel from another client while the batch waits
            box["thread"] = threading.Thread(
                target=lambda: box.setdefault("cancel", hub.api(crew["admin"], "POST", f"batch/{box['id']}/cancel"))
            )
            box["thread"].start()
        if e["event"] == "plan":
            box["id"] = e["id"]

    started = time.monotonic()
    events = run_batch(
        hub,
        crew["admin"],
        {
            "action": "stop",
            "users": crew["names"],
            "notify": {"message": "Stopping in 2 minutes", "delay_seconds": 120},
        },
        on_event,
    )
    assert time.monotonic() - started < 110  # the wait ended with the cancel, not after 120 s
    box["thread"].join(60)  # the stream may end before the cancelling client has read its answer
    assert box["cancel"].status_code == 200
    assert {d["username"]: d["status"] for d in box["notified"]["deliveries"]} == {
        n: "delivered" for n in crew["names"]
    }
    assert [results(events)[n]["outcome"] for n in crew["names"]] == ["cancelled"] * 3
    assert events[-1]["cancelled"] == 3
    for name in crew["names"]:  # nothing was stopped
        assert hub.api(crew["admin"], "GET", f"users/{name}").json()["server"]


def test_a_group_is_resolved_to_its_members(hub, crew):
    a, b, _ = crew["names"]
    group = f"{a}-batch"
    assert hub.api(crew["admin"], "POST", f"groups/{group}").status_code == 201
    assert hub.api(crew["admin"], "POST", f"groups/{group}/users", json={"users": [b, crew["idle"]]}).status_code == 200
    r = hub.api(crew["admin"], "POST", "batch/preview", json={"action": "start", "group": group})
    rows = {u["username"]: u for u in r.json()["users"]}
    assert sorted(rows) == sorted([b, crew["idle"]])
    assert rows[crew["idle"]]["applies"] and rows[b]["reason"] == "already running"


@pytest.mark.parametrize(
    "body, status, starts",
    [
        ({"action": "explode", "all_running": True}, 400, "action:"),
        ({"action": "stop"}, 400, "users:"),
        ({"action": "stop", "users": ["x"], "all_running": True}, 400, "users:"),
        ({"action": "stop", "users": ["nobody-here-zz"]}, 400, "users: no such user: nobody-here-zz"),
        ({"action": "stop", "group": "no-such-group-zz"}, 404, "group:"),
        ({"action": "stop", "all_running": True, "notify": {"message": ""}}, 400, "notify.message:"),
        (
            {"action": "stop", "all_running": True, "notify": {"message": "x", "delay_seconds": 99999}},
            400,
            "notify.delay_seconds:",
        ),
        ({"action": "stop", "all_running": True, "colour": "red"}, 400, "colour:"),
    ],
)
def test_bad_requests(hub, crew, body, status, starts):
    r = hub.api(crew["admin"], "POST", "batch", json=body)
    assert r.status_code == status and r.json()["message"].startswith(starts), r.text


def test_users_may_not_batch_other_people(hub, crew):
    a, b, _ = crew["names"]
    r = hub.api(crew["sessions"][a], "POST", "batch", json={"action": "stop", "users": [a, b]})
    assert r.status_code == 403 and "may not control" in r.json()["message"]  # naming nobody
    assert hub.api(crew["admin"], "GET", f"users/{a}").json()["server"]  # nothing happened
    assert hub.api(None, "POST", "batch/preview", json={"action": "stop", "all_running": True}).status_code == 403
    assert crew["sessions"][a].get(hub.hub_url + "batch").status_code == 403
