"""Scheduled backups on both backends (throw-away containers on Docker, tool pods on the user's
claims on Kubernetes) into a directory of this machine: generations per volume, a named server's
volumes too, unchanged volumes skipped, older generations pruned, the user's "last backup", an
admin's restore into an emptied volume (file content compared), the operator script restoring
the same archives (Docker), and a failing backup made visible. The rounds are the scheduler's own,
started with **Back up now** (the API's ``POST /hub/api/backups/run``) so the scenario knows when
one ran; a failing hub runs them on its schedule."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
from harness import LAB_IMAGE, REPO, RUN_PREFIX, Hub, audit, wait_for
from steps import start_all, stop

from stellars_hub import naming

TARGET = Path(f"/tmp/stellars-backups-{RUN_PREFIX}")
HUB_ENV = {
    "JUPYTERHUB_BACKUP_INTERVAL": "3600",  # rounds started by the scenarios (and one at start)
    "JUPYTERHUB_BACKUP_TARGET": str(TARGET),
    "JUPYTERHUB_BACKUP_KEEP": "2",
    "JUPYTERHUB_BACKUP_IMAGE": LAB_IMAGE,
    "JUPYTERHUB_NAMED_SERVERS": "1",
}
KUBE_VOLUMES = 0  # nothing here is measured
NOTES = "/home/lab/workspace/notes.txt"
SERVER = "alpha"


@pytest.fixture(scope="module", autouse=True)
def target(backend):
    TARGET.mkdir(parents=True, exist_ok=True)
    yield TARGET
    shutil.rmtree(TARGET, ignore_errors=True)


@pytest.fixture(scope="module")
def bk(hub):
    """A user with the default and a named server running, and what the scenarios learn."""
    name, session = hub.new_user("bk")
    start_all(hub, [(session, name, ""), (session, name, SERVER)])
    return {"name": name, "session": session}


def write_notes(lab_engine, lab: str, text: str) -> None:
    code, out = lab_engine.exec(lab, f"printf '%s' '{text}' > {NOTES}")
    assert code == 0, out


def volume_row(hub, name, key) -> dict:
    r = hub.api(hub.admin_session(), "GET", f"users/{name}/backups")
    assert r.status_code == 200, r.text
    return next(v for v in r.json()["volumes"] if v["key"] == key)


def read_archive_notes(archive: str) -> str:
    with tarfile.open(TARGET / archive) as tar:
        content = tar.extractfile("./notes.txt")
        assert content is not None
        return content.read().decode()


def archives(volume: str) -> list[str]:
    return sorted(p.name for p in TARGET.glob(f"{volume}_*.tar.gz"))


def backup_round(hub) -> dict:
    """One round of the scheduler, started now and waited for: its counts."""
    admin = hub.admin_session()
    wait_for(lambda: not hub.api(admin, "GET", "backups").json()["running"], 300, "the running round's end", step=0.5)
    r = hub.api(admin, "POST", "backups/run")
    assert r.status_code == 202, r.text
    wait_for(
        lambda: not (b := hub.api(admin, "GET", "backups").json())["running"] and b["last_round"],
        300,
        "the round's end",
        step=0.5,
    )
    return hub.api(admin, "GET", "backups").json()["last_round"]


def test_backups_keep_generations_of_every_servers_volumes(hub, lab_engine, bk):
    name = bk["name"]
    vol = naming.user_volume_names(name)["workspace"]
    named = naming.server_volume_names(name, SERVER)["workspace"]
    write_notes(lab_engine, naming.container_name(name), "first version")
    write_notes(lab_engine, naming.server_container_name(name, SERVER), "named version")

    # (the round the scheduler runs once the hub is up may have backed up the notes already)
    counts = backup_round(hub)
    assert counts["failed"] == 0 and counts["ok"] + counts["unchanged"] >= 6, counts  # both servers' volumes
    first = volume_row(hub, name, "workspace")
    assert first["outcome"] in ("ok", "unchanged") and first["archive"].startswith(vol + "_")
    assert first["archive"].endswith(".tar.gz") and archives(vol)[-1] == first["archive"]
    assert read_archive_notes(first["archive"]) == "first version"
    other = volume_row(hub, name, f"{SERVER}/workspace")
    assert other["archive"].startswith(named + "_") and read_archive_notes(other["archive"]) == "named version"

    # an unchanged volume is skipped: the next round writes nothing for it
    backup_round(hub)
    assert volume_row(hub, name, "workspace")["outcome"] == "unchanged"
    assert archives(vol)[-1] == first["archive"] and volume_row(hub, name, "workspace")["archive"] == first["archive"]

    # changes make new generations; only 2 are kept
    time.sleep(1.1)  # archive names carry the second
    write_notes(lab_engine, naming.container_name(name), "second version")
    backup_round(hub)
    second = volume_row(hub, name, "workspace")
    time.sleep(1.1)
    write_notes(lab_engine, naming.container_name(name), "third version")
    backup_round(hub)
    third = volume_row(hub, name, "workspace")
    assert first["archive"] < second["archive"] < third["archive"]
    assert archives(vol) == [second["archive"], third["archive"]]  # the first pruned
    assert read_archive_notes(second["archive"]) == "second version"
    assert read_archive_notes(third["archive"]) == "third version"
    gens = [g["archive"] for g in volume_row(hub, name, "workspace")["generations"]]
    assert gens == [third["archive"], second["archive"]]  # newest first
    bk.update(second=second["archive"], third=third["archive"])

    # the user sees when their last backup ran; others see nothing of it
    mine = hub.api(bk["session"], "GET", f"users/{name}/backups").json()
    assert mine["last_backup"] and mine["failed"] == []
    other_user, other_session = hub.new_user("bo")
    assert hub.api(other_session, "GET", f"users/{name}/backups").status_code == 403


def test_an_admin_restores_a_generation_into_an_emptied_volume(hub, lab_engine, bk):
    name, session = bk["name"], bk["session"]
    admin = hub.admin_session()
    vol = naming.user_volume_names(name)["workspace"]
    body = {"volume": "workspace", "archive": bk["second"]}
    # refused while the server runs, refused to the user
    r = hub.api(admin, "POST", f"users/{name}/backups/restore", json=body)
    assert r.status_code == 409 and "running" in r.json()["message"]
    assert hub.api(session, "POST", f"users/{name}/backups/restore", json=body).status_code == 403
    stop(hub, session, name)
    stop(hub, session, name, SERVER)
    lab_engine.wait_gone(naming.container_name(name))
    r = hub.api(admin, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["workspace"]})
    assert r.status_code == 200, r.text
    assert not lab_engine.volume_exists(vol)  # emptied: gone

    r = hub.api(admin, "POST", f"users/{name}/backups/restore", json=body)
    assert r.status_code == 200, r.text
    assert lab_engine.read(vol, "notes.txt") == "second version"
    assert any(a["action"] == "backup-restore" and a["archive"] == bk["second"] for a in audit(hub))

    # bad requests name the field
    r = hub.api(admin, "POST", f"users/{name}/backups/restore", json={"volume": "shared", "archive": "x"})
    assert r.status_code == 400 and r.json()["message"].startswith("volume:")
    r = hub.api(
        admin, "POST", f"users/{name}/backups/restore", json={"volume": "workspace", "archive": "../../etc.tar.gz"}
    )
    assert r.status_code == 404 and r.json()["message"].startswith("archive:")


@pytest.mark.not_on(
    "kubernetes",
    reason="the operator scripts (scripts/volume-*.sh) work on Docker volumes through "
    "the docker command; on Kubernetes restore through the hub",
)
def test_the_operator_script_restores_the_same_archives(lab_engine, bk):
    check = f"jupyterlab-{RUN_PREFIX}scriptcheck"
    done = subprocess.run(
        [str(REPO / "scripts/volume-restore.sh"), str(TARGET / bk["third"]), check],
        capture_output=True,
        text=True,
        timeout=300,
    )  # its default tools image
    assert done.returncode == 0, done.stderr
    assert lab_engine.read(check, "notes.txt") == "third version"


def test_a_failing_backup_is_visible(backend, tmp_path_factory):
    """A hub whose backup image does not exist: the user's volume fails with the engine's reason,
    in the next round already (on Kubernetes the tool pod's image error ends it at once)."""
    base = backend.hub
    env = {**base.env, "JUPYTERHUB_BACKUP_INTERVAL": "2", "JUPYTERHUB_BACKUP_IMAGE": "stellars-no-such-image:never"}
    hub = Hub(data_dir=tmp_path_factory.mktemp("failing-hub"), env=env, extra_args=base.extra_args).start()
    try:
        admin = hub.admin_session()
        name, session = hub.new_user("bf")
        backend.engine.fill({naming.user_volume_names(name)["home"]: {"f.txt": "x"}})
        users = wait_for(
            lambda: next((u for u in hub.api(admin, "GET", "backups").json()["users"] if u["username"] == name), None),
            180,
            "a round over the user",
        )
        (row,) = [v for v in users["volumes"] if v["key"] == "home"]
        assert row["outcome"] == "failed" and "stellars-no-such-image" in row["error"], row
        mine = hub.api(session, "GET", f"users/{name}/backups?generations=0").json()
        assert mine["failed"] == ["home"] and mine["last_backup"] is None
    finally:
        hub.stop()
