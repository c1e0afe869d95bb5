"""The hub's state in scheduled backups on Kubernetes: the hub (acting with the manifests' service
account) hands its state archive to a tool pod through the API server's exec, the pod writes it
into the target (a host path of this single node), and the archive restores onto an empty data
directory with ``stellars-hub restore-state``."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tarfile
from contextlib import closing
from pathlib import Path

import pytest
from harness import LAB_IMAGE, RUN_PREFIX

TARGET = Path(f"/var/tmp/stellars-{RUN_PREFIX}-kbackups")
HUB_ENV = {
    "JUPYTERHUB_BACKUP_INTERVAL": "86400",
    "JUPYTERHUB_BACKUP_TARGET": str(TARGET),
    "JUPYTERHUB_BACKUP_IMAGE": LAB_IMAGE,
}


@pytest.fixture(scope="module", autouse=True)
def target():
    TARGET.mkdir(parents=True, exist_ok=True)
    yield
    shutil.rmtree(TARGET, ignore_errors=True)


def test_the_hub_s_state_reaches_the_target_through_a_tool_pod(kube_hub, tmp_path):
    name, _session = kube_hub.new_user("ks")
    data = kube_hub.backup_round()
    [state] = [row for row in data["hub"] if row["key"] == "state"]
    assert state["outcome"] == "ok", state
    archive = TARGET / state["archive"]
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "data/jupyterhub.sqlite", "data/jupyterhub_cookie_secret"} <= names, names
    restored = tmp_path / "restored"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "stellars-hub"), "restore-state", str(archive), "--data-dir", str(restored)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (restored / "jupyterhub_cookie_secret").read_bytes() == (
        kube_hub.data_dir / "jupyterhub_cookie_secret"
    ).read_bytes()
    with closing(sqlite3.connect(restored / "jupyterhub.sqlite")) as conn:
        assert (name,) in conn.execute("SELECT name FROM users").fetchall()
