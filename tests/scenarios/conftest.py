"""Every user-visible promise, on both backends: each scenario module runs once with a real hub
whose labs are Docker containers and once with a real hub whose labs are pods on the test
cluster (the Kubernetes runs come last, while the cluster is up). One hub per backend per
module; a module says what its hub needs:

- ``HUB_ENV``: settings, as environment variables;
- ``HUB_ARGS``: more hub arguments, ``{spawner}`` standing for the backend's spawner class;
- ``KUBE_VOLUMES``: how many measured volumes the module's claims need on Kubernetes (0: the
  cluster's default storage, whose use nobody measures).

A scenario that cannot hold on one backend says so with ``@pytest.mark.not_on(backend,
reason=...)``: it is skipped there with that reason, and the README's Kubernetes section lists it
(tests/readme.py writes that list, from tests/scenarios/marks_table.py).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from engines import DockerEngine, Engine, KubeEngine
from harness import ARTIFACTS, TEST_ENV, Hub, remove_test_objects
from kubecluster import KUBE_HUB_ARGS, LocalStorage, kube_env

HERE = Path(__file__).resolve().parent
SPAWNERS = {"docker": "StellarsSpawner", "kubernetes": "StellarsKubeSpawner"}
# measured volumes a module gets on Kubernetes unless it says otherwise (each claim uses one up)
KUBE_VOLUMES = 24


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "not_on(backend, reason): a scenario that cannot hold on that backend (skipped there, listed in the README)",
    )


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE not in Path(str(item.fspath)).parents:
            continue
        backend = item.callspec.params.get("backend") if hasattr(item, "callspec") else None
        for mark in item.iter_markers("not_on"):
            reason = mark.kwargs.get("reason")
            assert reason, f"{item.nodeid}: not_on needs a reason"
            if backend in mark.args:
                item.add_marker(pytest.mark.skip(reason=f"not on {backend}: {reason}"))


@dataclass
class Backend:
    """A module's hub on one backend and the engine under it."""

    name: str
    hub: Hub
    engine: Engine

    @property
    def spawner(self) -> str:
        return SPAWNERS[self.name]


@pytest.fixture(scope="module", params=["docker", "kubernetes"])
def backend(request, tmp_path_factory):
    module = request.module
    env = getattr(module, "HUB_ENV", {})
    args = [a.format(spawner=SPAWNERS[request.param]) for a in getattr(module, "HUB_ARGS", [])]
    storage = None
    if request.param == "docker":
        request.getfixturevalue("docker_engine")
        engine: Engine = DockerEngine()
        hub = Hub(data_dir=tmp_path_factory.mktemp("hub"), env={**TEST_ENV, **env}, extra_args=args)
    else:
        cluster = request.getfixturevalue("k8s_cluster")
        kubeconfig = request.getfixturevalue("hub_kubeconfig")
        count = getattr(module, "KUBE_VOLUMES", KUBE_VOLUMES)
        extra = {}
        if count:
            storage = LocalStorage(cluster, module.__name__.rpartition(".")[2].replace("_", "-"), count).up()
            extra["JUPYTERHUB_K8S_STORAGE_CLASS"] = storage.name
        engine = KubeEngine(cluster, storage.name if storage else "")
        hub = Hub(
            data_dir=tmp_path_factory.mktemp("kube-hub"),
            env=kube_env(cluster, kubeconfig, **extra, **env),
            extra_args=[*KUBE_HUB_ARGS, *args],
        )
    try:
        hub.start()
        yield Backend(request.param, hub, engine)
    finally:
        hub.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        if hub.log_path.exists():
            shutil.copy(hub.log_path, ARTIFACTS / f"hub-{request.param}-{module.__name__.rpartition('.')[2]}.log")
        engine.cleanup()
        if request.param == "docker":
            remove_test_objects()
        elif storage is not None:
            storage.down()  # the module's pods, then its claims and volumes
        else:
            request.getfixturevalue("k8s_cluster").run(
                "delete", "pod", "--all", "--wait=true", "--timeout=120s", check=False, timeout=180
            )


@pytest.fixture(scope="module")
def hub(backend) -> Hub:
    return backend.hub


@pytest.fixture(scope="module")
def lab_engine(backend) -> Engine:
    return backend.engine
