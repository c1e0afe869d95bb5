"""Tests on an in-process hub (no engine): ``hub`` and ``make_hub`` are the root conftest's
``inprocess_hub`` (one per module, the module's ``HUB_ENV`` and ``HUB_CONFIG`` applied) and
``make_inprocess_hub`` (one per call)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def hub(inprocess_hub):
    return inprocess_hub


@pytest.fixture
def make_hub(make_inprocess_hub):
    return make_inprocess_hub
