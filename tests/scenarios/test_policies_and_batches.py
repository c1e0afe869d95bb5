"""What groups give labs, and what an admin does to many labs at once, on both backends. Group
policies: what a user in two groups gets is the documented merge, in the lab as its engine
reports it (limits, variables, mounts of an operator's volume and a host directory, privileged
mode); a user in no group gets the site's defaults; Restart Server recreates a lab whose policy
changed (the engine's in-place restart would keep the old settings); a soft storage quota is
measured on the user's own volumes, shown, and warned about once inside the running lab, with
nothing deleted. Batch actions over the same three labs: preview, a notice first and a cancel
during its wait, a restart of three with one failing (bounded concurrency, audit), groups resolved
to their members, bad input, permissions, a stop of every running lab and a start."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time

import pytest
from harness import RUN_PREFIX, audit, wait_for
from steps import QUEUE, run_batch, start_all

from stellars_hub import naming
from stellars_hub.lab.spec import SPEC_LABEL

MiB = 2**20
HOST_DIR = f"/tmp/{RUN_PREFIX}-policy-host"  # made and removed by each backend's run
HUB_ENV = {
    "JUPYTERHUB_LAB_MEMORY_LIMIT": "2048",  # the defaults a user outside every group gets
    "JUPYTERHUB_LAB_CPU_LIMIT": "1",
    "JUPYTERHUB_POLICY_HOST_PATHS": HOST_DIR,
    "JUPYTERHUB_RESTART_READY_TIMEOUT": "240",
    "JUPYTERHUB_QUOTA_CHECK_INTERVAL": "10",
    "JUPYTERHUB_BATCH_CONCURRENCY": "2",
}
KUBE_VOLUMES = 12


def group(hub, label: str, policy: dict) -> str:
    name = f"{RUN_PREFIX}{label}"
    admin = hub.admin_session()
    assert hub.api(admin, "POST", f"groups/{name}").status_code == 201
    r = hub.api(admin, "PUT", f"groups/{name}/policy", json=policy)
    assert r.status_code == 200, r.text
    return name


def join(hub, group_name: str, user: str) -> None:
    r = hub.api(hub.admin_session(), "POST", f"groups/{group_name}/users", json={"users": [user]})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def setup(hub, lab_engine):
    """Two groups with policies, a member of both, a member of one with a tiny quota, and a user in
    no group, their labs started side by side."""
    os.makedirs(HOST_DIR, exist_ok=True)
    os.chmod(HOST_DIR, 0o755)
    with open(os.path.join(HOST_DIR, "readme.txt"), "w") as f:
        f.write("from the host\n")
    os.chmod(os.path.join(HOST_DIR, "readme.txt"), 0o644)
    data = [lab_engine.data_volume(f"{RUN_PREFIX}-data-{x}") for x in "ab"]
    course = group(
        hub,
        "course",
        {
            "memory_mb": 512,
            "cpus": 1.5,
            "pids": 300,
            "env": {"COURSE": "ml-101"},
            "mounts": [{"source": data[0], "target": "/mnt/datasets", "mode": "ro"}],
        },
    )
    research = group(
        hub,
        "research",
        {
            "memory_mb": 3072,
            "cpus": 0.5,
            "pids": 200,
            "env": {"TEAM": "vision"},
            "privileged": True,
            "mounts": [
                {"source": data[1], "target": "/mnt/scratch", "mode": "rw"},
                {"source": HOST_DIR, "target": "/mnt/host-data", "mode": "ro"},
            ],
        },
    )
    quota = group(hub, "quota", {"quota_gb": 0.002})  # 2 MB
    member, member_s = hub.new_user("pol")
    join(hub, course, member)
    join(hub, research, member)
    over, over_s = hub.new_user("quo")
    join(hub, quota, over)
    outsider, outsider_s = hub.new_user("out")
    start_all(hub, [(member_s, member, ""), (over_s, over, ""), (outsider_s, outsider, "")])
    yield {
        "course": course,
        "research": research,
        "quota": quota,
        "data": data,
        "member": (member, member_s),
        "over": (over, over_s),
        "outsider": (outsider, outsider_s),
    }
    shutil.rmtree(HOST_DIR, ignore_errors=True)


def test_a_user_in_two_groups_gets_the_merge_in_the_lab_and_others_the_defaults(hub, lab_engine, setup):
    member, session = setup["member"]
    # the user sees what the lab gets and which group gave it
    lab = hub.api(session, "GET", f"users/{member}/lab").json()["lab"]
    assert lab["memory_mb"] == 3072 and lab["sources"]["memory_mb"] == [setup["research"]]
    assert lab["cpus"] == 1.5 and lab["sources"]["cpus"] == [setup["course"]]

    got = lab_engine.lab(naming.container_name(member))
    assert got.memory_bytes == 3072 * MiB  # the most generous memory (research)
    assert got.cpus == pytest.approx(1.5)  # the most generous CPUs (course)
    assert got.privileged  # research grants it
    assert got.env["COURSE"] == "ml-101" and got.env["TEAM"] == "vision"  # union of the variables
    assert got.env["MEM_LIMIT"] == str(3072 * MiB) and got.env["CPU_LIMIT"] == "1.5"
    mounts = got.mounts
    assert (mounts["/mnt/datasets"].source, mounts["/mnt/datasets"].read_only) == (setup["data"][0], True)
    assert (mounts["/mnt/scratch"].source, mounts["/mnt/scratch"].read_only) == (setup["data"][1], False)
    host = mounts["/mnt/host-data"]
    assert host.host and host.source == HOST_DIR and host.read_only
    assert {"/home", naming.NOTEBOOK_DIR, naming.SHARED_MOUNT} <= set(mounts)  # the lab's own volumes stay
    lab_name = naming.container_name(member)
    assert lab_engine.exec(lab_name, "cat /mnt/host-data/readme.txt") == (0, "from the host\n")
    table = lab_engine.exec(lab_name, "cat /proc/mounts")[1]
    modes = {f[1]: f[3].split(",")[0] for f in (line.split() for line in table.splitlines())}
    assert modes["/mnt/host-data"] == "ro" and modes["/mnt/datasets"] == "ro" and modes["/mnt/scratch"] == "rw"

    outsider, _ = setup["outsider"]
    other = lab_engine.lab(naming.container_name(outsider))
    assert other.memory_bytes == 2048 * MiB and other.cpus == pytest.approx(1) and not other.privileged
    assert "COURSE" not in other.env and other.env["MEM_LIMIT"] == str(2048 * MiB)
    assert set(other.mounts).isdisjoint({"/mnt/host-data", "/mnt/datasets", "/mnt/scratch"})
    assert other.labels[SPEC_LABEL] != got.labels[SPEC_LABEL]

    updates = [a for a in audit(hub) if a["action"] == "policy-update" and a["target"] == f"group:{setup['research']}"]
    assert updates and updates[-1]["outcome"] == "ok"


@pytest.mark.not_on(
    "kubernetes",
    reason="the process limit has no per-pod equivalent (the kubelet's --pod-max-pids bounds every pod of a node)",
)
def test_the_most_generous_process_limit_reaches_the_lab(lab_engine, setup):
    member, _ = setup["member"]
    assert lab_engine.lab(naming.container_name(member)).pids == 300  # course's


@pytest.mark.not_on(
    "docker",
    reason="requests are what the Kubernetes scheduler reserves for a pod; Docker "
    "reserves nothing (a lab's CPU weight is JUPYTERHUB_LAB_CPU_SHARES)",
)
def test_a_lab_reserves_a_share_of_its_limits(lab_engine, setup):
    (member, _), (outsider, _) = setup["member"], setup["outsider"]
    # half the memory, a tenth of the CPUs (StellarsKubeSpawner's default fractions)
    got = lab_engine.lab(naming.container_name(member)).requests
    assert got["memory"] == 1536 * MiB and got["cpu"] == pytest.approx(0.15)
    got = lab_engine.lab(naming.container_name(outsider)).requests
    assert got["memory"] == 1024 * MiB and got["cpu"] == pytest.approx(0.1)


def test_restart_recreates_a_lab_whose_policy_changed(hub, lab_engine, setup):
    member, session = setup["member"]
    before = lab_engine.lab(naming.container_name(member))
    assert hub.api(session, "GET", f"users/{member}/restart-server").json()["recreate"] is None
    r = hub.api(
        hub.admin_session(),
        "PUT",
        f"groups/{setup['research']}/policy",
        json={"memory_mb": 2560, "env": {"TEAM": "audio"}},
    )
    assert r.status_code == 200, r.text
    reason = hub.api(session, "GET", f"users/{member}/restart-server").json()["recreate"]
    assert reason and "policy" in reason

    r = hub.api(session, "POST", f"users/{member}/restart-server")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "recreated"
    after = lab_engine.lab(naming.container_name(member))
    assert after.id != before.id  # a new container / pod with the new settings
    assert after.memory_bytes == 2560 * MiB and after.env["TEAM"] == "audio" and not after.privileged
    assert "/mnt/scratch" not in after.mounts and "/mnt/datasets" in after.mounts
    assert hub.api(session, "GET", f"users/{member}/restart-server").json()["recreate"] is None


def test_over_quota_is_shown_and_warned_once_and_nothing_is_deleted(hub, lab_engine, setup):
    admin = hub.admin_session()
    (name, session), (within, within_s) = setup["over"], setup["outsider"]
    token = hub.token_for(name)
    lab = naming.container_name(name)
    assert lab_engine.exec(lab, "head -c 5000000 /dev/urandom > /home/lab/workspace/big.bin")[0] == 0

    warnings: list = []

    def warned():
        r = hub.lab(name, "GET", QUEUE, token=token)
        assert r.status_code == 200, r.text
        warnings.extend(n for n in r.json()["notifications"] if "over quota" in n["message"])
        return warnings

    wait_for(warned, 240, "a quota warning in the lab", step=3)
    assert warnings[0]["type"] == "warning"
    st = hub.api(session, "GET", f"users/{name}/storage").json()
    assert st["over"] is True and st["quota_bytes"] == 2_000_000 and st["used_bytes"] >= 5_000_000
    assert st["from_groups"] == [setup["quota"]]
    assert hub.api(within_s, "GET", f"users/{within}/storage").json()["over"] is False
    manage = wait_for(
        lambda: (m := hub.api(session, "GET", f"users/{name}/manage-volumes").json()["storage"])["over"] and m,
        90,
        "over quota in Manage Volumes",
        step=2,
    )
    assert manage["quota_bytes"] == 2_000_000
    over = hub.api(admin, "GET", "storage?over=1").json()["users"]
    assert [u["username"] for u in over if u["username"].startswith(RUN_PREFIX)] == [name]
    assert hub.api(within_s, "GET", "storage").status_code == 403
    assert hub.api(within_s, "GET", f"users/{name}/storage").status_code == 403

    # more check passes: no second warning within the day; the file is still there
    time.sleep(12)
    assert not [
        n for n in hub.lab(name, "GET", QUEUE, token=token).json()["notifications"] if "over quota" in n["message"]
    ]
    assert lab_engine.exec(lab, "test -s /home/lab/workspace/big.bin")[0] == 0


# -- batch actions over the module's three labs -----------------------------------------------------
def results(events):
    return {e["username"]: e for e in events if e["event"] == "result"}


def audit_lines(hub, batch_id):
    return [
        json.loads(line) for line in (hub.data_dir / "audit.log").read_text().splitlines() if f'"{batch_id}"' in line
    ]


@pytest.fixture(scope="module")
def crew(hub, setup):
    """The three running labs (the member of two groups, the user over quota, the user in no
    group) and a user who never started one."""
    people = [setup["member"], setup["over"], setup["outsider"]]
    idle, idle_session = hub.new_user("bd")
    return {
        "admin": hub.admin_session(),
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


def test_stop_all_running_then_start_one_again(hub, lab_engine, crew):
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
    # a start (of the lab that had died: a start is a start, however the lab ended)
    events = run_batch(hub, crew["admin"], {"action": "start", "users": [c]})
    assert results(events)[c]["outcome"] == "done", events
    assert hub.api(crew["admin"], "GET", f"users/{c}").json()["server"]
    assert lab_engine.lab(naming.container_name(c)).running
