"""Group policies on the Kubernetes backend: a group's limits, variables, GPU choice and mounts
land in the lab's pod spec as the API server reports it; a user outside the group gets the
operator's defaults; Restart Server recreates a pod whose policy changed (a pod's spec cannot
change, the kubelet's restart would keep the old one); a policy naming a claim that does not
exist fails the start with a reason."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest

from harness import RUN_PREFIX

from stellars_hub import naming
from stellars_hub.lab.spec import CAP_DROP, SPEC_LABEL
from stellars_hub.backends.kubernetes.runtime import parse_quantity

HOST_DIR = tempfile.mkdtemp(prefix=f"{RUN_PREFIX}-kpolicy-")
HUB_ENV = {
    "JUPYTERHUB_LAB_MEMORY_LIMIT": "2048",  # the defaults a user outside every group gets
    "JUPYTERHUB_LAB_CPU_LIMIT": "1",
    "JUPYTERHUB_POLICY_HOST_PATHS": HOST_DIR,
    "JUPYTERHUB_RESTART_READY_TIMEOUT": "240",
}
DATA_CLAIM = f"{RUN_PREFIX}-datasets"
MiB = 2**20


def lab_container(pod: dict) -> dict:
    return next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")


def resources(pod: dict) -> dict:
    """{"limits": {name: number}, "requests": {...}} of the lab container, as numbers."""
    res = lab_container(pod)["resources"]
    return {kind: {k: parse_quantity(v) for k, v in (res.get(kind) or {}).items()} for kind in ("limits", "requests")}


def env_of(pod: dict) -> dict:
    return {e["name"]: e.get("value") for e in lab_container(pod)["env"]}


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
def data_claim(k8s_cluster):
    """A claim the operator made for a policy to mount (bound by the test cluster's provisioner)."""
    k8s_cluster.run("apply", "-f", "-", input=f"""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {DATA_CLAIM}}}
spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}
""")
    return DATA_CLAIM


@pytest.fixture(scope="module")
def course(kube_hub, data_claim):
    os.chmod(HOST_DIR, 0o755)
    with open(os.path.join(HOST_DIR, "readme.txt"), "w") as f:
        f.write("from the host\n")
    os.chmod(os.path.join(HOST_DIR, "readme.txt"), 0o644)
    yield group(kube_hub, "kcourse", {
        "memory_mb": 3072, "cpus": 1.5, "gpus": "none", "env": {"COURSE": "k8s-101"},
        "mounts": [{"source": HOST_DIR, "target": "/mnt/host-data", "mode": "ro"},
                   {"source": data_claim, "target": "/mnt/datasets", "mode": "rw"}],
    })
    shutil.rmtree(HOST_DIR, ignore_errors=True)


@pytest.fixture(scope="module")
def two_labs(kube_hub, k8s_cluster, course):
    """A member of the course group and a user in no group, their labs started side by side."""
    member, member_session = kube_hub.new_user("kpm")
    join(kube_hub, course, member)
    outsider, outsider_session = kube_hub.new_user("kpo")
    for name, session in ((member, member_session), (outsider, outsider_session)):
        r = kube_hub.api(session, "POST", f"users/{name}/server")
        assert r.status_code in (201, 202), r.text
    for name, session in ((member, member_session), (outsider, outsider_session)):
        kube_hub.wait_server(session, name, ready=True, timeout=300)
    return (member, member_session), (outsider, outsider_session)


def test_group_policy_is_in_the_pod_spec_and_outsiders_get_the_defaults(kube_hub, k8s_cluster, two_labs):
    (member, _), (outsider, _) = two_labs
    pod = k8s_cluster.get("pod", naming.container_name(member))
    res = resources(pod)
    assert res["limits"]["memory"] == 3072 * MiB and res["limits"]["cpu"] == pytest.approx(1.5)
    # requests: half the memory, a tenth of the CPUs (StellarsKubeSpawner's default fractions)
    assert res["requests"]["memory"] == 1536 * MiB and res["requests"]["cpu"] == pytest.approx(0.15)
    assert "nvidia.com/gpu" not in res["limits"]  # gpus: none
    env = env_of(pod)
    assert env["COURSE"] == "k8s-101" and env["MEM_LIMIT"] == str(3072 * MiB) and env["CPU_LIMIT"] == "1.5"
    assert env["ENABLE_GPU_SUPPORT"] == "0" and env["NVIDIA_VISIBLE_DEVICES"] == "none"
    # the policy's mounts: the host directory read-only, the operator's claim read-write
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in lab_container(pod)["volumeMounts"]}
    host = volumes[mounts["/mnt/host-data"]["name"]]
    assert host["hostPath"]["path"] == HOST_DIR and mounts["/mnt/host-data"]["readOnly"] is True
    data = volumes[mounts["/mnt/datasets"]["name"]]
    assert data["persistentVolumeClaim"]["claimName"] == DATA_CLAIM and not mounts["/mnt/datasets"].get("readOnly")
    assert {"/home", naming.NOTEBOOK_DIR, naming.SHARED_MOUNT} <= set(mounts)  # the lab's own claims stay
    security = lab_container(pod)["securityContext"]
    assert not security.get("privileged") and set(CAP_DROP) <= set(security["capabilities"]["drop"])
    assert SPEC_LABEL in pod["metadata"]["labels"]
    # inside the lab: the host's file, each mount with its mode (the claim's own permissions are
    # the operator's, as a Docker volume's are)
    lab = naming.container_name(member)
    out = k8s_cluster.run("exec", lab, "-c", "notebook", "--", "cat", "/mnt/host-data/readme.txt").stdout
    assert out == "from the host\n"
    table = k8s_cluster.run("exec", lab, "-c", "notebook", "--", "cat", "/proc/mounts").stdout
    modes = {f[1]: f[3].split(",")[0] for f in (line.split() for line in table.splitlines())}
    assert modes["/mnt/host-data"] == "ro" and modes["/mnt/datasets"] == "rw"

    other = k8s_cluster.get("pod", naming.container_name(outsider))
    res = resources(other)
    assert res["limits"]["memory"] == 2048 * MiB and res["limits"]["cpu"] == 1
    assert res["requests"]["memory"] == 1024 * MiB and res["requests"]["cpu"] == pytest.approx(0.1)
    env = env_of(other)
    assert "COURSE" not in env and env["MEM_LIMIT"] == str(2048 * MiB)
    assert {m["mountPath"] for m in lab_container(other)["volumeMounts"]}.isdisjoint({"/mnt/host-data", "/mnt/datasets"})
    assert other["metadata"]["labels"][SPEC_LABEL] != pod["metadata"]["labels"][SPEC_LABEL]


def test_restart_recreates_a_pod_whose_policy_changed(kube_hub, k8s_cluster, two_labs, course):
    (member, session), _ = two_labs
    before = k8s_cluster.get("pod", naming.container_name(member))
    assert kube_hub.api(session, "GET", f"users/{member}/restart-server").json()["recreate"] is None
    r = kube_hub.api(kube_hub.admin_session(), "PUT", f"groups/{course}/policy", json={
        "memory_mb": 2560, "cpus": 1.5, "gpus": "none", "env": {"COURSE": "k8s-102"}})
    assert r.status_code == 200, r.text
    reason = kube_hub.api(session, "GET", f"users/{member}/restart-server").json()["recreate"]
    assert reason and "policy" in reason

    r = kube_hub.api(session, "POST", f"users/{member}/restart-server")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "recreated"
    after = k8s_cluster.get("pod", naming.container_name(member))
    assert after["metadata"]["uid"] != before["metadata"]["uid"]  # a new pod with the new spec
    assert resources(after)["limits"]["memory"] == 2560 * MiB
    assert env_of(after)["COURSE"] == "k8s-102"
    assert "/mnt/datasets" not in {m["mountPath"] for m in lab_container(after)["volumeMounts"]}
    assert kube_hub.api(session, "GET", f"users/{member}/restart-server").json()["recreate"] is None


def test_a_policy_claim_that_does_not_exist_fails_the_start_with_a_reason(kube_hub, k8s_cluster):
    missing = f"{RUN_PREFIX}-no-such-data"
    grp = group(kube_hub, "kmissing", {"mounts": [{"source": missing, "target": "/mnt/nothing", "mode": "ro"}]})
    name, session = kube_hub.new_user("kpx")
    join(kube_hub, grp, name)
    r = kube_hub.api(session, "POST", f"users/{name}/server")
    assert r.status_code in (201, 202, 500), r.text  # 500: the spawn failed before the API answered
    deadline = time.monotonic() + 60
    while kube_hub.api(session, "GET", f"users/{name}").json()["servers"].get(""):
        assert time.monotonic() < deadline, "the refused spawn did not end"
        time.sleep(1)
    assert f"has no claim {missing}" in kube_hub.log_text()
    assert k8s_cluster.get("pod", naming.container_name(name)) is None
