"""Group policies on both backends: what a user in two groups gets is the documented merge, in the
lab as its engine reports it (limits, variables, mounts of an operator's volume and a host
directory, privileged mode); a user in no group gets the site's defaults; Restart Server
recreates a lab whose policy changed (the engine's in-place restart would keep the old settings);
a soft storage quota is measured on the user's own volumes, shown, and warned about once inside
the running lab, with nothing deleted."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from harness import RUN_PREFIX
from steps import QUEUE, audit, start_all, wait_for

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
    time.sleep(25)
    assert not [
        n for n in hub.lab(name, "GET", QUEUE, token=token).json()["notifications"] if "over quota" in n["message"]
    ]
    assert lab_engine.exec(lab, "test -s /home/lab/workspace/big.bin")[0] == 0
