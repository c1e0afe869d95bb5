"""The DS lab image for the tests that run it. `make test` starts its build in the background
(scripts/build-images.sh --background: minutes on a fresh machine, while the other tests run)
and orders these tests last; ``require`` waits for that build, or finds the image already there."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

DS_IMAGE = os.environ.get("STELLARS_TEST_DS_IMAGE", "stellars-lab-ds:dev")
STATUS = Path("/tmp/stellars-build-background.status")
LOG = Path("/tmp/stellars-build-background.log")
BUILD_TIMEOUT = 45 * 60  # a cold build of the DS image on a slow link, with the suite beside it


def _build_state() -> str:
    """'' (no build in the background, or it succeeded), 'running', or why it failed."""
    try:
        words = STATUS.read_text().split()
    except FileNotFoundError:
        return ""
    if not words or words[0] == "0":
        return ""
    if words[0] == "running":
        if len(words) == 1 or Path(f"/proc/{words[1]}").exists():
            return "running"
        return "the background build ended without an exit status"
    return f"the background build failed (exit {words[0]})"


def require(engine) -> None:
    """Wait for the background build of the DS image (if any), then fail unless it is there."""
    deadline = time.monotonic() + BUILD_TIMEOUT
    while (state := _build_state()) == "running" and time.monotonic() < deadline:
        time.sleep(5)
    if state:
        tail = LOG.read_text(errors="replace")[-3000:] if LOG.exists() else ""
        pytest.fail(f"DS lab image {DS_IMAGE}: {state if state != 'running' else 'build still running'}\n{tail}")
    try:
        engine.images.get(DS_IMAGE)
    except Exception:
        pytest.fail(f"DS lab image {DS_IMAGE} is missing: run `make images-ds` (make test builds it)")
