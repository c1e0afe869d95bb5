"""What only the Kubernetes backend has, on the test cluster (every user-visible promise runs on
both backends in tests/scenarios): the lab pod's own shape (restart policy, host network, its
claims bound, the lab's arguments), statistics from the kubelet's summary where no metrics API
is served, sizes unknown on storage that measures nothing, the refusals of what a pod cannot get
(the Docker socket, a policy claim that does not exist), and a 503 when the API server is gone.
Every check reads what the API server reports."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import RUN_PREFIX, TEST_ENV, wait_for

from stellars_hub import naming
from stellars_hub.backends.kubernetes.podspec import claim_name

HUB_ENV = {
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",
    "JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION": "5",
    "JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL": "2",
    "JUPYTERHUB_RESTART_READY_TIMEOUT": "180",
}
# the admin may also ask the hub to ask a lab whether it is busy (the idle culler's scope)
HUB_CONFIG = (
    "c.JupyterHub.load_roles = [{'name': 'probe', 'scopes': ['custom:session:activity'], "
    f"'users': [{TEST_ENV['JUPYTERHUB_ADMIN']!r}]}}]\n"
)
STATE = Path("/var/tmp/stellars-k8s")


def pod_of(cluster, name: str) -> dict | None:
    return cluster.get("pod", naming.container_name(name))


def claims_of(name: str) -> dict[str, str]:
    return {v.key: claim_name(naming.volume_name(name, v.key)) for v in naming.USER_VOLUMES}


@pytest.fixture(scope="module")
def running_lab(kube_hub, k8s_cluster):
    """One user whose lab runs as a pod (shared by the tests that need a running lab)."""
    name, session = kube_hub.new_user("k")
    kube_hub.start_server(session, name, timeout=300)
    return name, session


def test_lab_runs_as_a_pod_with_its_claims_and_answers_through_the_hub(kube_hub, k8s_cluster, running_lab):
    name, _ = running_lab
    pod = pod_of(k8s_cluster, name)
    assert pod is not None, "no pod named after the user"
    assert pod["status"]["phase"] == "Running"
    assert all(s["ready"] for s in pod["status"]["containerStatuses"])
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Always" and spec["hostNetwork"] is True
    lab = next(c for c in spec["containers"] if c["name"] == "notebook")
    assert lab["image"] == kube_hub.env["JUPYTERHUB_NOTEBOOK_IMAGE"]
    # the platform's lab arguments reach the lab (KubeSpawner drops them under the image's CMD)
    assert lab["args"][0] == "jupyterhub-singleuser" and "--HubOAuth.cache_max_age=30" in lab["args"]
    env = {e["name"]: e.get("value") for e in lab["env"]}
    assert env["JUPYTERHUB_SERVICE_MLFLOW"] == "1" and env["ENABLE_GPU_SUPPORT"] == "0"
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3"
    # one claim per per-user volume plus the shared claim, each mounted where Docker mounts it
    claimed = {
        v["persistentVolumeClaim"]["claimName"]: v["name"] for v in spec["volumes"] if "persistentVolumeClaim" in v
    }
    expected = {**{c: k for k, c in claims_of(name).items()}, claim_name(naming.SHARED_VOLUME): "shared"}
    assert set(claimed) == set(expected)
    mounts = {m["name"]: m["mountPath"] for m in lab["volumeMounts"]}
    for volume in naming.USER_VOLUMES:
        assert mounts[claimed[claims_of(name)[volume.key]]] == volume.mount
    assert mounts[claimed[claim_name(naming.SHARED_VOLUME)]] == naming.SHARED_MOUNT
    for claim in claimed:
        assert k8s_cluster.get("pvc", claim)["status"]["phase"] == "Bound"
    # the lab answers through the hub, and its user can write to every volume
    assert kube_hub.lab(name, "GET", "api/status").status_code == 200
    token = kube_hub.token_for(name)
    for path in ("notes.txt", "../home-probe.txt", "../.cache/probe.txt", "../../../mnt/shared/probe.txt"):
        k8s_cluster.in_lab(naming.container_name(name), "sh", "-c", f"cd {naming.NOTEBOOK_DIR} && echo ok > {path}")
    r = kube_hub.lab(
        name, "PUT", "api/contents/hello.txt", token, json={"type": "file", "format": "text", "content": "hi"}
    )
    assert r.status_code in (200, 201), r.text


def test_a_shared_pod_lab_opens_for_its_recipient_never_for_an_admin(kube_hub, running_lab):
    from labvisit import open_lab, opened

    name, session = running_lab
    guest, guest_s = kube_hub.new_user("kg")
    assert kube_hub.api(session, "POST", f"shares/{name}/", json={"user": guest}).status_code == 200
    assert opened(open_lab(kube_hub, guest_s, name), name)
    assert not opened(open_lab(kube_hub, kube_hub.login(kube_hub.admin), name), name)
    assert kube_hub.api(session, "PATCH", f"shares/{name}/", json={"user": guest}).status_code == 200
    assert not opened(open_lab(kube_hub, kube_hub.login(guest), name), name)


def test_the_hub_asks_a_pod_lab_whether_it_is_busy(kube_hub, running_lab):
    from kernelclient import run_cell

    name, _ = running_lab
    culler = kube_hub.token_for(kube_hub.admin, ["custom:session:activity"])
    before = kube_hub.api(None, "POST", f"users/{name}/session-activity", token=culler)
    assert before.status_code == 200 and before.json()["busy"] is False, before.text
    run_cell(kube_hub.base + f"user/{name}/", kube_hub.token_for(name), "import time; time.sleep(60)")
    r = kube_hub.api(None, "POST", f"users/{name}/session-activity", token=culler)
    assert r.status_code == 200, r.text
    assert r.json()["busy"] is True and r.json()["reason"] == "1 kernel running code"
    assert r.json()["last_activity"] >= before.json()["last_activity"]


def kubelet_summary(cluster, pod_name: str) -> list[dict]:
    """The lab containers of a pod as the kubelet's summary API (through the API server) reports them."""
    out = cluster.run("get", "--raw", "/api/v1/nodes/127.0.0.1/proxy/stats/summary").stdout
    return [
        c
        for p in json.loads(out)["pods"]
        if p["podRef"]["name"] == pod_name and p["podRef"]["namespace"] == cluster.namespace
        for c in p["containers"]
    ]


def runtime_answer(cluster, kubeconfig: str, call: str):
    """``call`` on a KubernetesRuntime of its own (a fresh process: the client's configuration is
    global) with the hub's service account, as JSON."""
    script = (
        "import asyncio, json\n"
        "from stellars_hub.backends.kubernetes.config import use_kubeconfig\n"
        "from stellars_hub.backends.kubernetes.runtime import KubernetesRuntime\n"
        f"use_kubeconfig({kubeconfig!r})\n"
        "async def main():\n"
        f"    print(json.dumps(await KubernetesRuntime({cluster.namespace!r}).{call}))\n"
        "asyncio.run(main())\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_statistics_come_from_the_kubelet_summary_without_a_metrics_api(
    kube_hub, k8s_cluster, hub_kubeconfig, running_lab
):
    # the test cluster runs no metrics server: API discovery does not find metrics.k8s.io
    probe = k8s_cluster.run("get", "--raw", "/apis/metrics.k8s.io/v1beta1", check=False)
    assert probe.returncode != 0 and "NotFound" in probe.stderr, probe.stderr
    assert runtime_answer(k8s_cluster, hub_kubeconfig, "stats_source()") == "summary"
    # the hub's own decision, made at its first statistics round after a lab runs
    admin = kube_hub.admin_session()
    deadline = time.monotonic() + 60
    while "Lab statistics from the kubelets' summary API" not in kube_hub.log_text():
        assert time.monotonic() < deadline, "the hub never said where its lab statistics come from"
        kube_hub.api(admin, "GET", "activity")
        time.sleep(1)


def test_volume_sizes_are_unknown_where_the_kubelet_measures_nothing(k8s_cluster, hub_kubeconfig, running_lab):
    name, _ = running_lab
    # hostPath volumes (the test cluster's storage) have no metrics: the summary lists none of the
    # lab's claims, so their sizes stay unknown rather than 0
    listed = json.loads(k8s_cluster.run("get", "--raw", "/api/v1/nodes/127.0.0.1/proxy/stats/summary").stdout)
    pod = next(
        p
        for p in listed["pods"]
        if p["podRef"]["name"] == naming.container_name(name) and p["podRef"]["namespace"] == k8s_cluster.namespace
    )
    assert not [v for v in pod.get("volume") or [] if v.get("pvcRef")]
    sizes = runtime_answer(k8s_cluster, hub_kubeconfig, "volume_sizes()")
    assert not {naming.volume_name(name, v.key) for v in naming.USER_VOLUMES} & set(sizes)


def test_docker_socket_group_is_refused_with_a_reason(kube_hub, k8s_cluster):
    name, session = kube_hub.new_user("ks")
    admin = kube_hub.admin_session()
    r = kube_hub.api(admin, "POST", "groups/docker-sock/users", json={"users": [name]})
    assert r.status_code == 200, r.text
    r = kube_hub.api(session, "POST", f"users/{name}/server")
    assert r.status_code in (201, 202, 500), r.text  # 500: the spawn failed before the API answered
    wait_for(
        lambda: kube_hub.api(session, "GET", f"users/{name}").json()["servers"].get("") is None,
        60,
        "the refused spawn to end",
    )
    log = kube_hub.log_text()
    assert f"a group of {name} (docker-sock" in log and "no Docker engine" in log
    assert pod_of(k8s_cluster, name) is None


def test_a_policy_claim_that_does_not_exist_fails_the_start_with_a_reason(kube_hub, k8s_cluster):
    missing = f"{RUN_PREFIX}-no-such-data"
    grp = f"{RUN_PREFIX}kmissing"
    admin = kube_hub.admin_session()
    assert kube_hub.api(admin, "POST", f"groups/{grp}").status_code == 201
    r = kube_hub.api(
        admin,
        "PUT",
        f"groups/{grp}/policy",
        json={"mounts": [{"source": missing, "target": "/mnt/nothing", "mode": "ro"}]},
    )
    assert r.status_code == 200, r.text
    name, session = kube_hub.new_user("kpx")
    assert kube_hub.api(admin, "POST", f"groups/{grp}/users", json={"users": [name]}).status_code == 200
    r = kube_hub.api(session, "POST", f"users/{name}/server")
    assert r.status_code in (201, 202, 500), r.text  # 500: the spawn failed before the API answered
    deadline = time.monotonic() + 60
    while kube_hub.api(session, "GET", f"users/{name}").json()["servers"].get(""):
        assert time.monotonic() < deadline, "the refused spawn did not end"
        time.sleep(1)
    assert f"has no claim {missing}" in kube_hub.log_text()
    assert k8s_cluster.get("pod", naming.container_name(name)) is None


def test_api_server_down_is_a_503(kube_hub, k8s_cluster, running_lab):
    name, session = running_lab
    pid = int((STATE / "kube-apiserver.pid").read_text())
    # SIGKILL: an API server that vanishes (a graceful stop waits minutes for open watches)
    subprocess.run(["kill", "-KILL", str(pid)], check=True)
    try:
        wait_for(
            lambda: k8s_cluster.run("get", "--raw", "/healthz", check=False, timeout=20).returncode != 0,
            30,
            "the API server gone",
        )
        r = kube_hub.api(session, "POST", f"users/{name}/restart-server")
        assert r.status_code == 503, r.text
        assert "Kubernetes API server" in r.json()["message"]
        r = kube_hub.api(session, "GET", f"users/{name}/manage-volumes")
        assert r.status_code == 503, r.text
    finally:
        up = subprocess.run(
            [str(Path(__file__).resolve().parents[2] / "scripts" / "k8s-test-cluster.sh"), "up"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert up.returncode == 0, up.stdout + up.stderr
