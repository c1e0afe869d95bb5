"""A real single-node Kubernetes for this directory's tests (scripts/k8s-test-cluster.sh).

The cluster comes up once per test session (the first run on a machine builds Kubernetes, about
7 minutes on 2 cores) and goes down at the end, unless it was already running before the session:
then it is left as found. Every run works in a namespace of its own, deleted at the end.
"""

from __future__ import annotations

import base64
import calendar
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from harness import ARTIFACTS, REPO, RUN_PREFIX, TEST_ENV, Hub
from kubecluster import Cluster, manifest_for_run

SCRIPT = REPO / "scripts" / "k8s-test-cluster.sh"
CLUSTER_LOG = ARTIFACTS / "k8s-test-cluster.log"


def _script(*args: str, timeout: float) -> subprocess.CompletedProcess:
    ARTIFACTS.mkdir(exist_ok=True)
    with open(CLUSTER_LOG, "a") as log:
        return subprocess.run([str(SCRIPT), *args], stdout=log, stderr=subprocess.STDOUT, timeout=timeout)


def _value(text: str, key: str) -> str:
    for line in text.splitlines():
        if line.startswith(key + "="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{key}= missing from the cluster script's output")


ABANDONED_AFTER = 3 * 3600  # seconds: no test run lasts that long


def _remove_abandoned_namespaces(cluster: Cluster) -> None:
    """A cluster left running may hold the namespaces of runs that were killed: their lab pods
    keep their CPU and memory requests on the one node, and new labs then wait unscheduled."""
    listing = json.loads(cluster.run("get", "namespaces", "-o", "json").stdout)
    now = time.time()
    for ns in listing["items"]:
        name = ns["metadata"]["name"]
        created = calendar.timegm(time.strptime(ns["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ"))
        if name.startswith("stellars-t") and now - created > ABANDONED_AFTER:
            cluster.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="session")
def k8s_cluster():
    if os.geteuid() != 0:
        pytest.fail("the Kubernetes tests run a kubelet and need root (run make test as root)")
    already_up = _script("status", timeout=60).returncode == 0
    if not already_up:
        # first run on a machine: build (~7 min on 2 cores) + start (~30 s)
        if _script("up", timeout=3600).returncode != 0:
            pytest.fail(f"scripts/k8s-test-cluster.sh up failed; see {CLUSTER_LOG}")
    status = subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True, timeout=60)
    kubeconfig = _value(status.stdout, "KUBECONFIG")
    kubectl = _value(status.stdout, "KUBECTL")
    cluster = Cluster(kubeconfig, kubectl, f"stellars-{RUN_PREFIX}")
    if already_up:
        _remove_abandoned_namespaces(cluster)
    subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", "create", "namespace", cluster.namespace],
                   check=True, capture_output=True, timeout=60)
    yield cluster
    subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", "delete", "namespace", cluster.namespace,
                    "--wait=true", "--timeout=120s"], capture_output=True, timeout=180)
    if not already_up:
        _script("down", timeout=600)


@pytest.fixture(scope="session")
def hub_kubeconfig(k8s_cluster, tmp_path_factory) -> Iterator[str]:
    """A kubeconfig with the token of deploy/kubernetes/rbac.yaml's service account: the test
    hubs act with exactly the permissions the manifests give the hub."""
    cluster = k8s_cluster
    proc = subprocess.run([cluster.kubectl, f"--kubeconfig={cluster.kubeconfig}", "apply", "-f", "-"],
                          input=manifest_for_run(cluster, "rbac.yaml"), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    secret = ""
    for _ in range(60):  # the token controller adds the account's token secret
        secret = cluster.run("get", "serviceaccount", "stellars-hub", "-o",
                             "jsonpath={.secrets[0].name}", check=False).stdout.strip()
        if secret:
            break
        time.sleep(1)
    assert secret, "the service account got no token secret"
    token = base64.b64decode(cluster.run("get", "secret", secret, "-o", "jsonpath={.data.token}").stdout).decode()
    admin = cluster.run("config", "view", "--raw", "--minify", "-o", "json").stdout
    server = json.loads(admin)["clusters"][0]["cluster"]
    path = tmp_path_factory.mktemp("sa") / "hub.kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "hub",
        "clusters": [{"name": "test", "cluster": server}],
        "users": [{"name": "stellars-hub", "user": {"token": token}}],
        "contexts": [{"name": "hub", "context": {"cluster": "test", "user": "stellars-hub",
                                                  "namespace": cluster.namespace}}],
    }))
    yield str(path)
    subprocess.run([cluster.kubectl, f"--kubeconfig={cluster.kubeconfig}", "delete", "clusterrole,clusterrolebinding",
                    f"stellars-hub-nodes-{cluster.namespace}", "--ignore-not-found"], capture_output=True, timeout=60)


def kube_env(cluster: Cluster, kubeconfig: str, **extra) -> dict:
    return {
        **TEST_ENV,
        "JUPYTERHUB_BACKEND": "kubernetes",
        "JUPYTERHUB_K8S_KUBECONFIG": kubeconfig,
        "JUPYTERHUB_K8S_NAMESPACE": cluster.namespace,
        "JUPYTERHUB_K8S_VOLUME_SIZE": "1Gi",
        **extra,
    }


# the test cluster's hostPath storage offers ReadWriteOnce only (one node: enough for sharing)
KUBE_HUB_ARGS = ["--StellarsKubeSpawner.shared_access_modes=ReadWriteOnce"]


@pytest.fixture(scope="module")
def kube_hub(k8s_cluster, hub_kubeconfig, tmp_path_factory, request):
    env = kube_env(k8s_cluster, hub_kubeconfig, **getattr(request.module, "HUB_ENV", {}))
    hub = Hub(data_dir=tmp_path_factory.mktemp("kube-hub"), env=env, extra_args=list(KUBE_HUB_ARGS),
              extra_config=getattr(request.module, "HUB_CONFIG", "")).start()
    yield hub
    hub.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    if hub.log_path.exists():
        shutil.copy(hub.log_path, ARTIFACTS / f"hub-kube-{hub.port}.log")
    # labs of this module's users: their pods and claims go with the namespace at session end;
    # remove the pods now so later modules start from a quiet node
    k8s_cluster.run("delete", "pod", "--all", "--wait=true", "--timeout=120s", check=False, timeout=180)
