"""Disaster recovery on a real hub and engine: a hub with users (own passwords), a group policy,
a user's own variables, consent, a broadcast in the history, a user's files and the team's shared
files; one scheduled backup round; then the data directory and every volume are lost. The hub's
state comes back with ``stellars-hub restore-state`` (refused onto a non-empty directory), the
shared volume with scripts/volume-restore.sh, the user's workspace through the admin restore
API of the restored hub: everyone logs in with their old password (an old browser session still
works: the cookie secret came back), and finds their files, policy, consent and history."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import hubdrill
import pytest
from harness import (
    ARTIFACTS,
    LAB_IMAGE,
    REPO,
    RUN_PREFIX,
    TEST_ENV,
    Hub,
    engine,
    read_volume_file,
    remove_test_objects,
)
from test_postgres_db import postgres  # noqa: F401  (the throwaway PostgreSQL server)

from stellars_hub import naming

TARGET = Path(f"/tmp/stellars-dr-{RUN_PREFIX}")
SHARED = f"jupyterlab-{RUN_PREFIX}dr-shared_team"  # this test's own shared volume (others keep theirs)
ENV = {
    **TEST_ENV,
    "JUPYTERHUB_BACKUP_INTERVAL": "86400",
    "JUPYTERHUB_BACKUP_TARGET": str(TARGET),
    "JUPYTERHUB_BACKUP_KEEP": "2",
    "JUPYTERHUB_BACKUP_IMAGE": LAB_IMAGE,
}
CONFIG = f"c.LabSpawnerMixin.shared_volume = {SHARED!r}\n"
NOTES = "ann's notes, version 1"
TEAM = "the team's shared file"
POLICY = {"memory_mb": 768, "env": {"TEAM_COLOUR": "blue"}}


def keep_log(hub: Hub) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    if hub.log_path.exists():
        shutil.copy(hub.log_path, ARTIFACTS / f"hub-{hub.port}.log")


@pytest.fixture
def disaster(docker_engine, tmp_path_factory):
    TARGET.mkdir(parents=True, exist_ok=True)
    hubs: list[Hub] = []
    yield hubs
    for hub in hubs:
        hub.stop()
        keep_log(hub)
    remove_test_objects()  # the labs first, then the volumes (this shared one too: it carries the prefix)
    shutil.rmtree(TARGET, ignore_errors=True)


def lab_exec(name: str, command: str) -> str:
    code, out = engine().containers.get(naming.container_name(name)).exec_run(["sh", "-c", command])
    assert code == 0, out
    return out.decode()


def restore_state(archive: Path, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "stellars-hub"), "restore-state", str(archive), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_whole_hub_comes_back_from_its_backups(disaster, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("drhub")
    hub = Hub(data_dir=data_dir, env=ENV, extra_config=CONFIG)
    disaster.append(hub)
    hub.start()
    drill = hubdrill.fill(hub, "dr", POLICY, {"ANN_VAR": "x1"})
    ann = drill.ann
    lab_exec(ann, f"printf '%s' \"{NOTES}\" > /home/lab/workspace/notes.txt")
    lab_exec(ann, f"printf '%s' \"{TEAM}\" > /mnt/shared/team.txt")

    data = hub.backup_round()
    hub_rows = {row["key"]: row for row in data["hub"]}
    assert hub_rows["state"]["outcome"] == "ok", hub_rows
    assert hub_rows["shared"]["outcome"] == "ok" and hub_rows["shared"]["volume"] == SHARED, hub_rows
    state = TARGET / hub_rows["state"]["archive"]
    assert state.name.startswith("jupyterhub_state_") and state.stat().st_mode & 0o077 == 0  # secrets inside
    with tarfile.open(state) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = {m.name for m in tar.getmembers()}
    for file in (
        "jupyterhub.sqlite",
        "jupyterhub_cookie_secret",
        "audit.log",
        "environment.sqlite",
        "notifications.sqlite",
        "access.sqlite",
        "backups.sqlite",
    ):
        assert f"data/{file}" in names, names
    assert not any(n.endswith(("-wal", "-shm")) for n in names), names
    workspace = naming.user_volume_names(ann)["workspace"]
    assert manifest["volumes"][SHARED].startswith(SHARED + "_") and manifest["volumes"][workspace]

    # the disaster: the hub, its data directory, the lab and every volume gone
    hub.stop()
    client = engine()
    client.containers.get(naming.container_name(ann)).remove(force=True)
    for volume in [*naming.user_volume_names(ann).values(), SHARED]:
        for v in client.volumes.list(filters={"name": volume}):
            v.remove(force=True)
    shutil.rmtree(data_dir)
    data_dir.mkdir()

    # restore-state refuses a data directory that holds anything, and changes nothing there
    (data_dir / "leftover.txt").write_text("x")
    done = restore_state(state, data_dir)
    assert done.returncode == 1 and "not empty" in done.stderr and "leftover.txt" in done.stderr, done.stderr
    assert [p.name for p in data_dir.iterdir()] == ["leftover.txt"]
    (data_dir / "leftover.txt").unlink()
    done = restore_state(state, data_dir)
    assert done.returncode == 0, done.stderr
    assert SHARED in done.stdout and manifest["volumes"][SHARED] in done.stdout
    done = subprocess.run(
        [str(REPO / "scripts/volume-restore.sh"), str(TARGET / manifest["volumes"][SHARED]), SHARED],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr

    restored = Hub(data_dir=data_dir, env=ENV, extra_config=CONFIG)
    disaster.append(restored)
    restored.start()
    hubdrill.assert_kept(restored, drill)  # old passwords and browser session: the cookie secret came back
    admin = restored.admin_session()
    # the user's workspace through the restored hub's own restore path, from the archive it knows
    r = restored.api(
        admin,
        "POST",
        f"users/{ann}/backups/restore",
        json={"volume": "workspace", "archive": manifest["volumes"][workspace]},
    )
    assert r.status_code == 200, r.text
    assert read_volume_file(workspace, "notes.txt") == NOTES
    restored.start_server(drill.ann_session, ann)
    assert lab_exec(ann, "cat /home/lab/workspace/notes.txt") == NOTES
    assert lab_exec(ann, "cat /mnt/shared/team.txt") == TEAM
    env = engine().containers.get(naming.container_name(ann)).attrs["Config"]["Env"]
    assert "TEAM_COLOUR=blue" in env and "ANN_VAR=x1" in env  # the policy and her variables apply


def test_a_postgresql_hub_s_state_leaves_the_database_to_its_own_backup(make_hub, postgres, tmp_path):  # noqa: F811
    """With JUPYTERHUB_DB_URL on PostgreSQL the state archive holds the stores and files, not the
    database (the operator's database backup covers it), and says so; so does restore-state."""
    TARGET.mkdir(parents=True, exist_ok=True)
    try:
        hub = make_hub(
            JUPYTERHUB_DB_URL=postgres, **{k: v for k, v in ENV.items() if k.startswith("JUPYTERHUB_BACKUP")}
        )
        data = hub.backup_round()
        [state] = [row for row in data["hub"] if row["key"] == "state"]
        assert state["outcome"] == "ok", state
        with tarfile.open(TARGET / state["archive"]) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
            names = set(tar.getnames())
        assert manifest["hub_database"]["kind"] == "postgresql" and manifest["hub_database"]["included"] is False
        assert "postgres@" not in json.dumps(manifest)  # never the URL
        assert "data/jupyterhub_cookie_secret" in names and not any("jupyterhub.sqlite" in n for n in names)
        done = restore_state(TARGET / state["archive"], tmp_path / "restored")
        assert done.returncode == 0 and "(postgresql) is not in this archive" in done.stdout, done.stdout
    finally:
        shutil.rmtree(TARGET, ignore_errors=True)
