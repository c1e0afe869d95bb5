from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from harness import ARTIFACTS, LAB_IMAGE, TEST_ENV, Hub, engine, remove_test_objects

sys.path.insert(0, str(Path(__file__).parent / "inprocess"))  # the in-process hub, for any test folder



def _layer(item) -> int:
    path = str(item.fspath)
    if f"{os.sep}kubernetes{os.sep}" in path:
        return 3  # last: the test cluster is up only while these run
    if f"{os.sep}e2e{os.sep}" in path:
        return 2
    return 1 if f"{os.sep}integration{os.sep}" in path or f"{os.sep}security{os.sep}" in path else 0


def pytest_addoption(parser):
    parser.addoption("--ds", action="store_true",
                     help="also run the DS lab image's tests (marked ds; make test-ds builds the image and runs them)")


def pytest_report_header(config):
    if not config.getoption("ds"):
        return "the DS lab image's tests (marked ds) are left out: make test-ds runs them"


def _worker_group(item) -> str:
    """Which tests must share one pytest-xdist worker: a module's tests share its hub; every test of
    the one test cluster runs in one worker (one of them stops its API server); the compose
    deployment tests share one fixed project."""
    path = Path(str(item.fspath))
    if _layer(item) == 3 or "k8s_cluster" in getattr(item, "fixturenames", ()):
        return "kubernetes"
    if path.name.startswith("test_deploy_"):
        return "deploy"
    return path.stem


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks (--dist loadgroup)
def pytest_collection_modifyitems(config, items):
    # the DS image's tests only with --ds: its first build takes minutes, more than a fresh
    # machine's `make test` can add (make test-ds builds it and runs them)
    if not config.getoption("ds"):
        left_out = [item for item in items if item.get_closest_marker("ds")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("ds")]
    # unit, then integration, then browser tests: Playwright's sync API keeps its own event loop
    # running for the session, so asyncio tests must not come after it (an xdist worker keeps
    # this order: it takes its groups in collection order). The Kubernetes tests (no browser, no
    # asyncio) come first: their worker builds or starts the cluster while the others go on.
    items.sort(key=lambda item: -1 if _layer(item) == 3 else _layer(item))
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_worker_group(item)))
        layer = _layer(item)
        if layer == 1:
            item.add_marker(pytest.mark.integration)
        elif layer == 2:
            item.add_marker(pytest.mark.e2e)
        elif layer == 3:
            item.add_marker(pytest.mark.kubernetes)


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

    def start(extra_args=(), extra_config="", **env):
        hub = Hub(data_dir=tmp_path_factory.mktemp("hub"), env={**TEST_ENV, **env}, extra_args=list(extra_args),
                  extra_config=extra_config)
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
