from __future__ import annotations

import base64
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import ARTIFACTS, LAB_IMAGE, REPO, RUN_PREFIX, TEST_ENV, Hub, engine, remove_test_objects
from kubecluster import Cluster, manifest_for_run

sys.path.insert(0, str(Path(__file__).parent / "inprocess"))  # the in-process hub, for any test folder


def _backend(item) -> str | None:
    """The backend a scenario (tests/scenarios) runs on, or None for every other test."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("backend") if callspec is not None else None


def _layer(item) -> int:
    path = str(item.fspath)
    if f"{os.sep}kubernetes{os.sep}" in path or _backend(item) == "kubernetes":
        return 3
    if f"{os.sep}e2e{os.sep}" in path:
        return 2
    scenario = f"{os.sep}scenarios{os.sep}" in path
    engine = ("integration", "security", "faults")
    return 1 if scenario or any(f"{os.sep}{folder}{os.sep}" in path for folder in engine) else 0


def worker_group(nodeid: str) -> str:
    """Which tests must share one pytest-xdist worker: a module's tests share its hub; every test of
    the one test cluster runs in one worker (one of them stops its API server; the scenarios'
    Kubernetes runs among them); the compose deployment tests share one fixed project."""
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/kubernetes/") or re.search(r"\[(?:[^\]]*-)?kubernetes(?:-[^\]]*)?\]$", nodeid):
        return "kubernetes"
    if Path(path).name.startswith("test_deploy_"):
        return "deploy"
    return path


def pytest_xdist_make_scheduler(config, log):
    """Whole groups (worker_group) to a worker, in collection order. xdist's own loadgroup does
    not see marks added at collection, so the grouping is the scheduler's."""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    config.option.loadscopereorder = False  # collection order: the cluster's tests first
    return ByGroup(config, log)


def pytest_collection_modifyitems(config, items):
    for item in items:
        layer = _layer(item)
        if layer == 1:
            item.add_marker(pytest.mark.integration)
        elif layer == 2:
            item.add_marker(pytest.mark.e2e)
        elif layer == 3:
            item.add_marker(pytest.mark.kubernetes)


def _order(item) -> float:
    if item.get_closest_marker("ds"):
        return 3  # last: the DS image builds in the background meanwhile (tests/dsimage.py)
    layer = _layer(item)
    if layer == 3:
        return -1
    if worker_group(item.nodeid) == "deploy":
        # after every other engine test and before the browser tests (no asyncio test may follow
        # a browser); inside the group, its own Playwright runs before the e2e browser fixture's
        return 1.6 if layer == 2 else 1.5
    return layer


class _Order:
    @pytest.hookimpl(trylast=True)  # after pytest has grouped items by their module's parametrised fixtures
    def pytest_collection_modifyitems(self, items):
        # Kubernetes first (no browser, no asyncio: its worker builds or starts the cluster while
        # the others go on), then unit, integration (and the scenarios on Docker), then browser
        # tests: Playwright's sync API keeps its own event loop running for the session, so
        # asyncio tests must not come after it (an xdist worker keeps this order: it takes its
        # groups in collection order, pytest_xdist_make_scheduler)
        items.sort(key=_order)


def pytest_configure(config):
    config.pluginmanager.register(_Order(), "stellars-test-order")


@pytest.fixture(scope="session")
def docker_engine():
    client = engine()
    client.ping()
    try:
        client.images.get(LAB_IMAGE)
    except Exception:
        pytest.fail(f"lab image {LAB_IMAGE} is missing: run `make images` (make test does it)")
    yield client
    remove_test_objects()


@pytest.fixture
def make_hub(docker_engine, tmp_path_factory):
    """Start hubs with extra environment; each is stopped (and its labs removed) after the test."""
    hubs = []

    def start(extra_args=(), extra_config="", hub_id="", **env):
        hub = Hub(
            data_dir=tmp_path_factory.mktemp("hub"),
            env={**TEST_ENV, **env},
            extra_args=list(extra_args),
            extra_config=extra_config,
        )
        if hub_id:  # the hub's id known before it starts (what it made in an earlier run)
            (hub.data_dir / "hub-id").write_text(hub_id + "\n")
        hubs.append(hub)
        return hub.start()

    yield start
    for hub in hubs:
        hub.stop()
        _keep_log(hub)
    remove_test_objects()


@pytest.fixture(scope="module")
def hub(docker_engine, tmp_path_factory, request):
    """One shared hub per test module (TEST_ENV, plus the module's own ``HUB_ENV`` if it has one)."""
    env = {**TEST_ENV, **getattr(request.module, "HUB_ENV", {})}
    h = Hub(data_dir=tmp_path_factory.mktemp("hub"), env=env).start()
    yield h
    h.stop()
    _keep_log(h)
    remove_test_objects()


@pytest.fixture(scope="module")
def inprocess_hub(tmp_path_factory, request):
    """A real hub in this process with its engine faked (tests/inprocess): for questions about the
    hub's answers, not about an engine. The module's ``HUB_ENV`` and ``HUB_CONFIG`` apply."""
    from inprocesshub import InProcessHub

    env = {**TEST_ENV, **getattr(request.module, "HUB_ENV", {})}
    h = InProcessHub(
        data_dir=tmp_path_factory.mktemp("hub"), env=env, extra_config=getattr(request.module, "HUB_CONFIG", "")
    ).start()
    yield h
    h.stop()
    _keep_log(h)


@pytest.fixture
def make_inprocess_hub(tmp_path_factory):
    """In-process hubs with extra environment, one at a time (JupyterHub is a singleton)."""
    from inprocesshub import InProcessHub

    hubs = []

    def start(extra_args=(), extra_config="", **env):
        hub = InProcessHub(
            data_dir=tmp_path_factory.mktemp("hub"),
            env={**TEST_ENV, **env},
            extra_args=list(extra_args),
            extra_config=extra_config,
        )
        hubs.append(hub)
        return hub.start()

    yield start
    for hub in hubs:
        hub.stop()
        _keep_log(hub)


def _keep_log(hub: Hub) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    if hub.log_path.exists():
        shutil.copy(hub.log_path, ARTIFACTS / f"hub-{hub.port}.log")


# -- the Kubernetes test cluster (tests/kubernetes and the scenarios' kubernetes backend) --------
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
    subprocess.run(
        [kubectl, f"--kubeconfig={kubeconfig}", "create", "namespace", cluster.namespace],
        check=True,
        capture_output=True,
        timeout=60,
    )
    yield cluster
    subprocess.run(
        [
            kubectl,
            f"--kubeconfig={kubeconfig}",
            "delete",
            "namespace",
            cluster.namespace,
            "--wait=true",
            "--timeout=120s",
        ],
        capture_output=True,
        timeout=180,
    )
    if not already_up:
        _script("down", timeout=600)


@pytest.fixture(scope="session")
def hub_kubeconfig(k8s_cluster, tmp_path_factory) -> Iterator[str]:
    """A kubeconfig with the token of deploy/kubernetes/rbac.yaml's service account: the test
    hubs act with exactly the permissions the manifests give the hub."""
    cluster = k8s_cluster
    proc = subprocess.run(
        [cluster.kubectl, f"--kubeconfig={cluster.kubeconfig}", "apply", "-f", "-"],
        input=manifest_for_run(cluster, "rbac.yaml"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    secret = ""
    for _ in range(60):  # the token controller adds the account's token secret
        secret = cluster.run(
            "get", "serviceaccount", "stellars-hub", "-o", "jsonpath={.secrets[0].name}", check=False
        ).stdout.strip()
        if secret:
            break
        time.sleep(1)
    assert secret, "the service account got no token secret"
    token = base64.b64decode(cluster.run("get", "secret", secret, "-o", "jsonpath={.data.token}").stdout).decode()
    admin = cluster.run("config", "view", "--raw", "--minify", "-o", "json").stdout
    server = json.loads(admin)["clusters"][0]["cluster"]
    path = tmp_path_factory.mktemp("sa") / "hub.kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "hub",
                "clusters": [{"name": "test", "cluster": server}],
                "users": [{"name": "stellars-hub", "user": {"token": token}}],
                "contexts": [
                    {
                        "name": "hub",
                        "context": {"cluster": "test", "user": "stellars-hub", "namespace": cluster.namespace},
                    }
                ],
            }
        )
    )
    yield str(path)
    subprocess.run(
        [
            cluster.kubectl,
            f"--kubeconfig={cluster.kubeconfig}",
            "delete",
            "clusterrole,clusterrolebinding",
            f"stellars-hub-nodes-{cluster.namespace}",
            "--ignore-not-found",
        ],
        capture_output=True,
        timeout=60,
    )
