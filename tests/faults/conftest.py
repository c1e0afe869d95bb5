"""One hub per settings of the fault modules, shared by the modules that ask for the same (their
``HUB_ENV``, added to TEST_ENV), on its own data directory and behind a gate to the engine
(``FaultHub``: it can be killed and started again). A hub's start is a good part of a scenario's
time, so the modules whose faults need no settings of their own share one."""

from __future__ import annotations

import shutil

import pytest
from enginegate import EngineGate
from faultkit import FaultHub
from harness import ARTIFACTS, TEST_ENV, remove_test_objects

# JupyterHub looks at each running lab every 30 s; the scenarios do not wait that long for a
# dead lab to be noticed (a configured JupyterHub trait, nothing of the platform's)
POLL = ["--Spawner.poll_interval=2"]


@pytest.fixture(scope="session")
def fault_hubs(docker_engine):
    """Settings (HUB_ENV items) -> the hub started with them; all ended with the session."""
    hubs: dict[tuple, FaultHub] = {}
    yield hubs
    for h in hubs.values():
        assert h.gate is not None
        h.gate.release(False)
        h.stop()
        h.gate.close()
        keep_log(h)
    remove_test_objects()


@pytest.fixture(scope="module")
def hub(fault_hubs, tmp_path_factory, request):
    settings = getattr(request.module, "HUB_ENV", {})
    key = tuple(sorted(settings.items()))
    h = fault_hubs.get(key)
    if h is None:
        gate = EngineGate(str(tmp_path_factory.mktemp("gate") / "engine.sock")).open()
        env = {**TEST_ENV, "DOCKER_HOST": gate.docker_host, **settings}
        h = fault_hubs[key] = FaultHub(data_dir=tmp_path_factory.mktemp("hub"), env=env, extra_args=POLL, gate=gate)
        h.start(timeout=120)
    elif h.proc is None or h.proc.poll() is not None:
        h.restart()  # an earlier module's test ended with it killed
    return h


def keep_log(hub) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    if hub.log_path.exists():
        shutil.copy(hub.log_path, ARTIFACTS / f"hub-{hub.port}.log")
