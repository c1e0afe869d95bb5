"""One hub per fault module, on its own data directory and behind a gate to the engine
(``FaultHub``: it can be killed and started again); the module's ``HUB_ENV`` adds to TEST_ENV."""

from __future__ import annotations

import shutil

import pytest
from enginegate import EngineGate
from faultkit import FaultHub
from harness import ARTIFACTS, TEST_ENV, remove_test_objects

# JupyterHub looks at each running lab every 30 s; the scenarios do not wait that long for a
# dead lab to be noticed (a configured JupyterHub trait, nothing of the platform's)
POLL = ["--Spawner.poll_interval=2"]


@pytest.fixture(scope="module")
def hub(docker_engine, tmp_path_factory, request):
    gate = EngineGate(str(tmp_path_factory.mktemp("gate") / "engine.sock")).open()
    env = {**TEST_ENV, "DOCKER_HOST": gate.docker_host, **getattr(request.module, "HUB_ENV", {})}
    h = FaultHub(data_dir=tmp_path_factory.mktemp("hub"), env=env, extra_args=POLL, gate=gate)
    try:
        yield h.start(timeout=120)
    finally:
        gate.release(False)
        h.stop()
        gate.close()
        keep_log(h)
        remove_test_objects()


def keep_log(hub) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    if hub.log_path.exists():
        shutil.copy(hub.log_path, ARTIFACTS / f"hub-{hub.port}.log")
