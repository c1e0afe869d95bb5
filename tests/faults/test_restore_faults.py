"""The hub killed (SIGKILL) while a backup round takes its state: the archives already in the
target stay whole, no partial one is ever listed as a generation, the next round (the restarted
hub's first) starts from a clean staging directory and writes a complete archive that restores
onto an empty data directory; and a restore killed half-way never touches the data directory."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import LAB_IMAGE, RUN_PREFIX, TEST_ENV, Hub, remove_test_objects
from stellars_hub.backups import hubstate

TARGET = Path(f"/tmp/stellars-statefault-{RUN_PREFIX}")
ENV = {**TEST_ENV, "JUPYTERHUB_BACKUP_INTERVAL": "86400", "JUPYTERHUB_BACKUP_TARGET": str(TARGET),
       "JUPYTERHUB_BACKUP_KEEP": "5", "JUPYTERHUB_BACKUP_IMAGE": LAB_IMAGE}
BULK = 40 * 1024 * 1024  # random bytes in the data directory: the snapshot takes seconds, long enough to be killed in


@pytest.fixture
def hub(docker_engine, tmp_path_factory):
    TARGET.mkdir(parents=True, exist_ok=True)
    h = Hub(data_dir=tmp_path_factory.mktemp("statefault"), env=ENV)
    yield h
    h.stop()
    if h.proc is not None:
        try:
            os.killpg(h.proc.pid, signal.SIGKILL)  # a proxy the killed hub left
        except ProcessLookupError:
            pass
    remove_test_objects()
    shutil.rmtree(TARGET, ignore_errors=True)


def state_archives() -> list[Path]:
    return sorted(TARGET.glob(f"{hubstate.STATE}_*"))


def restore_state(archive: Path, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "stellars-hub"), "restore-state", str(archive),
                           "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=300)


def test_a_hub_killed_while_it_takes_its_state_leaves_whole_archives(hub, tmp_path):
    hub.start()
    hub.backup_round()  # archives of the state before: small and whole
    before = state_archives()
    assert before
    with open(hub.data_dir / "bulk.bin", "wb") as f:
        f.write(os.urandom(BULK))
    staging = hub.data_dir / ".backup-staging"
    admin = hub.admin_session()
    assert hub.api(admin, "POST", "backups/run").status_code == 202
    deadline = time.monotonic() + 60
    while not (staging / hubstate.DATA / "bulk.bin").exists():
        assert time.monotonic() < deadline, "the round never began to copy the data directory"
        time.sleep(0.02)
    os.kill(hub.proc.pid, signal.SIGKILL)  # the hub alone, as a crash would; its proxy lives on
    hub.proc.wait(30)
    assert state_archives() == before  # nothing new, nothing partial
    assert staging.exists()  # what the killed round left

    hub.start(timeout=120)  # the restarted hub's first round takes the state again
    deadline = time.monotonic() + 300
    while len(state_archives()) <= len(before) or staging.exists():
        assert time.monotonic() < deadline, f"no complete state archive after the restart: {state_archives()}"
        time.sleep(1)
    newest = state_archives()[-1]
    assert all(p.name.endswith(".tar.gz") for p in state_archives())
    assert all(hubstate.read_manifest(p)["files"] for p in before)  # the earlier archives are whole

    # the newest restores; a restore killed half-way leaves the data directory as it was: empty
    empty = tmp_path / "empty"
    proc = subprocess.Popen([str(Path(sys.executable).parent / "stellars-hub"), "restore-state", str(newest),
                             "--data-dir", str(empty)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".restoring-") for p in (empty.iterdir() if empty.exists() else ())):
        assert time.monotonic() < deadline and proc.poll() is None, "the restore never began unpacking"
        time.sleep(0.01)
    proc.kill()
    proc.wait(30)
    assert [p for p in empty.iterdir() if not p.is_dir()] == []  # only the unpacking folder, no hub file
    done = restore_state(newest, empty)  # and a second try succeeds, and clears what the first left
    assert done.returncode == 0, done.stderr
    assert (empty / "bulk.bin").stat().st_size == BULK
    assert not [p for p in empty.iterdir() if p.is_dir()]
