"""Tests on an in-process hub (no engine): ``hub`` is the root conftest's ``inprocess_hub`` (one
per module, the module's ``HUB_ENV`` and ``HUB_CONFIG`` applied); ``make_hub`` starts one per call."""

from __future__ import annotations

import shutil

import pytest
from harness import ARTIFACTS, TEST_ENV
from inprocesshub import InProcessHub


@pytest.fixture(scope="module")
def hub(inprocess_hub):
    return inprocess_hub


@pytest.fixture
def make_hub(tmp_path_factory):
    """In-process hubs, one at a time (JupyterHub is a singleton): each is stopped after the test."""
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


def _keep_log(hub: InProcessHub) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    if hub.log_path.exists():
        shutil.copy(hub.log_path, ARTIFACTS / f"inprocess-hub-{hub.port}.log")
