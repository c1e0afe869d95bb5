"""Scheduled backups on a real hub and engine: a short interval, generations, unchanged volumes
skipped, the user's "last backup", admin restore into an emptied volume (file content compared),
the operator script restoring the same archives, and a failing backup made visible."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import time
from datetime import datetime
from pathlib import Path

import pytest

from harness import LAB_IMAGE, REPO, RUN_PREFIX, engine, read_volume_file
from stellars_hub import naming

TARGET = Path(f"/tmp/stellars-backups-{RUN_PREFIX}")
HUB_ENV = {"JUPYTERHUB_BACKUP_INTERVAL": "3", "JUPYTERHUB_BACKUP_TARGET": str(TARGET),
           "JUPYTERHUB_BACKUP_KEEP": "2", "JUPYTERHUB_BACKUP_IMAGE": LAB_IMAGE}
NOTES = "/home/lab/workspace/notes.txt"


@pytest.fixture(scope="module", autouse=True)
def target():
    TARGET.mkdir(parents=True, exist_ok=True)
    yield TARGET
    shutil.rmtree(TARGET, ignore_errors=True)


def write_notes(name: str, text: str) -> None:
    c = engine().containers.get(naming.container_name(name))
    code, out = c.exec_run(["sh", "-c", f"printf '%s' '{text}' > {NOTES}"])
    assert code == 0, out


def workspace(hub, session, name) -> dict:
    r = hub.api(session, "GET", f"users/{name}/backups")
    assert r.status_code == 200, r.text
    return next(v for v in r.json()["volumes"] if v["key"] == "workspace")


def wait_for(check, timeout=180, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def read_archive_notes(archive: str) -> str:
    with tarfile.open(TARGET / archive) as tar:
        content = tar.extractfile("./notes.txt")
        assert content is not None
        return content.read().decode()


def restore(hub, admin, name, body):
    """POST restore; a scheduled backup of the same user holding their lock answers 409: retry."""
    for _ in range(30):
        r = hub.api(admin, "POST", f"users/{name}/backups/restore", json=body)
        if r.status_code != 409 or "backup is already running" not in r.json()["message"]:
            return r
        time.sleep(0.5)
    return r


def archives(volume: str) -> list[str]:
    return sorted(p.name for p in TARGET.glob(f"{volume}_*.tar.gz"))


def test_backup_generations_restore_and_the_script(hub):
    admin = hub.admin_session()
    name, session = hub.new_user("bk")
    hub.start_server(session, name)
    vol = naming.user_volume_names(name)["workspace"]
    write_notes(name, "first version")
    written = time.time()
    # the first backup that began after the write (an earlier round may have backed up the empty lab)
    first = wait_for(lambda: (w := workspace(hub, admin, name))["last_run"] and
                     datetime.fromisoformat(w["last_run"]).timestamp() >= int(written) + 1 and w, what="first backup")
    assert first["outcome"] in ("ok", "unchanged") and first["archive"].startswith(vol + "_")
    assert first["archive"].endswith(".tar.gz") and archives(vol)[-1] == first["archive"]
    assert read_archive_notes(first["archive"]) == "first version"

    # an unchanged volume is skipped: the next rounds write nothing for it
    wait_for(lambda: workspace(hub, admin, name)["outcome"] == "unchanged", what="an unchanged round")
    assert archives(vol)[-1] == first["archive"] and workspace(hub, admin, name)["archive"] == first["archive"]

    # changes make new generations; only 2 are kept
    time.sleep(1.1)  # archive names carry the second
    write_notes(name, "second version")
    second = wait_for(lambda: (w := workspace(hub, admin, name))["archive"] != first["archive"] and w, what="2nd")
    time.sleep(1.1)
    write_notes(name, "third version")
    third = wait_for(lambda: (w := workspace(hub, admin, name))["archive"] != second["archive"] and w, what="3rd")
    wait_for(lambda: archives(vol) == [second["archive"], third["archive"]], what="pruning to 2 generations")
    assert read_archive_notes(second["archive"]) == "second version"
    assert read_archive_notes(third["archive"]) == "third version"
    gens = [g["archive"] for g in workspace(hub, admin, name)["generations"]]
    assert gens == [third["archive"], second["archive"]]  # newest first

    # the user sees when their last backup ran; others see nothing of it
    mine = hub.api(session, "GET", f"users/{name}/backups").json()
    assert mine["last_backup"] and mine["failed"] == []
    other, other_session = hub.new_user("bo")
    assert hub.api(other_session, "GET", f"users/{name}/backups").status_code == 403

    # restore: refused while the server runs, refused to the user, then into an emptied volume
    body = {"volume": "workspace", "archive": second["archive"]}
    r = hub.api(admin, "POST", f"users/{name}/backups/restore", json=body)
    assert r.status_code == 409 and "running" in r.json()["message"]
    assert hub.api(session, "POST", f"users/{name}/backups/restore", json=body).status_code == 403
    hub.stop_server(session, name)
    r = retry_while_backed_up(lambda: hub.api(admin, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["workspace"]}))
    assert r.status_code == 200, r.text
    assert not engine().volumes.list(filters={"name": f"^{vol}$"})  # emptied: gone
    r = restore(hub, admin, name, body)
    assert r.status_code == 200, r.text
    assert read_volume_file(vol, "notes.txt") == "second version"
    audit = (hub.data_dir / "audit.log").read_text()
    assert '"action": "backup-restore"' in audit and second["archive"] in audit

    # bad requests name the field
    assert hub.api(admin, "POST", f"users/{name}/backups/restore",
                   json={"volume": "shared", "archive": "x"}).json()["message"].startswith("volume:")
    r = hub.api(admin, "POST", f"users/{name}/backups/restore", json={"volume": "workspace", "archive": "../../etc.tar.gz"})
    assert r.status_code == 404 and r.json()["message"].startswith("archive:")

    # the operator script restores the same archives
    check = f"jupyterlab-{RUN_PREFIX}scriptcheck"
    done = subprocess.run([str(REPO / "scripts/volume-restore.sh"), str(TARGET / third["archive"]), check],
                          capture_output=True, text=True, timeout=300)  # its default tools image
    assert done.returncode == 0, done.stderr
    assert read_volume_file(check, "notes.txt") == "third version"


def test_a_failing_backup_is_visible(make_hub, target):
    hub = make_hub(JUPYTERHUB_BACKUP_INTERVAL="2", JUPYTERHUB_BACKUP_TARGET=str(TARGET),
                   JUPYTERHUB_BACKUP_IMAGE="stellars-no-such-image:never")
    admin = hub.admin_session()
    name, session = hub.new_user("bf")
    vol = naming.user_volume_names(name)["home"]
    engine().volumes.create(vol)
    home = wait_for(lambda: next((v for v in hub.api(admin, "GET", "backups").json()["users"] if v["username"] == name),
                                 None), what="a round over the user")
    (row,) = [v for v in home["volumes"] if v["key"] == "home"]
    assert row["outcome"] == "failed" and "stellars-no-such-image" in row["error"]
    mine = hub.api(session, "GET", f"users/{name}/backups?generations=0").json()
    assert mine["failed"] == ["home"] and mine["last_backup"] is None


def retry_while_backed_up(request):
    """A reset while a scheduled backup holds the user's lock is refused (409); the tests back
    up every few seconds, so they try again."""
    for _ in range(60):
        r = request()
        if r.status_code != 409 or "backup is already running" not in r.json()["message"]:
            return r
        time.sleep(0.5)
    return r
