"""A re-used name inherits nothing; a renamed user keeps everything. A user with a named server,
files, backups, consent given to an admin, own variables, session extension, activity and usage
is deleted with their volumes; a newcomer under the same name finds none of it. A rename carries
every record to the new name and leaves nothing behind under the old one."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from harness import LAB_IMAGE, RUN_PREFIX, engine, wait_for

from stellars_hub import naming

TARGET = Path(f"/tmp/stellars-reuse-{RUN_PREFIX}")
HUB_ENV = {
    "JUPYTERHUB_NAMED_SERVERS": "1",
    "JUPYTERHUB_BACKUP_INTERVAL": "3600",  # rounds only when asked ("Back up now")
    "JUPYTERHUB_BACKUP_TARGET": str(TARGET),
    "JUPYTERHUB_BACKUP_IMAGE": LAB_IMAGE,
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",
    "JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL": "1",
    "JUPYTERHUB_USAGE_SAMPLE_INTERVAL": "1",
}
SERVER = "w"


@pytest.fixture(scope="module", autouse=True)
def target():
    TARGET.mkdir(parents=True, exist_ok=True)
    yield TARGET
    shutil.rmtree(TARGET, ignore_errors=True)


def volumes_of(name) -> list[str]:
    prefix = naming.container_name(name)
    return sorted(
        v.name
        for v in engine().volumes.list(filters={"name": prefix})
        if v.name.startswith((prefix + "_", prefix + naming.SERVER_SEPARATOR))
    )


def archives_of(name) -> list[str]:
    return sorted(p.name for p in TARGET.glob(f"{naming.container_name(name)}[_-]*.tar.gz"))


def back_up(hub, name) -> None:
    """A backup round now, until every existing volume of the user has an archive."""
    admin = hub.admin_session()
    wait_for(
        lambda: hub.api(admin, "POST", "backups/run").status_code == 202, what="a backup round to start", timeout=120
    )
    wait_for(
        lambda: (
            len(archives_of(name)) >= len(volumes_of(name)) > 0
            and len(
                hub.store_rows("backups.sqlite", "SELECT 1 FROM volumes WHERE username = ? AND outcome = 'ok'", name)
            )
            >= len(volumes_of(name))
        ),
        timeout=180,
        what=f"{name}'s archives and their results",
    )


def rows(hub, file, table, name) -> list:
    return hub.store_rows(file, f"SELECT * FROM {table} WHERE username = ?", name)


def consent_and_grant(hub, session, name) -> None:
    assert hub.api(session, "PUT", f"users/{name}/lab-access/consent", json={"hours": 1}).status_code == 200
    assert hub.api(hub.admin_session(), "POST", f"users/{name}/lab-access").status_code == 200


def admin_roles(hub) -> list[str]:
    return hub.api(hub.admin_session(), "GET", f"users/{hub.admin}").json()["roles"]


def test_a_name_used_again_after_delete_with_volumes_inherits_nothing(hub):
    admin = hub.admin_session()
    name, session = hub.new_user("ru")
    r = hub.api(session, "POST", f"users/{name}/servers/{SERVER}")
    assert r.status_code in (201, 202), r.text
    wait_for(
        lambda: hub.api(session, "GET", f"users/{name}").json()["servers"].get(SERVER, {}).get("ready"),
        what="the named server",
        timeout=120,
    )
    lab = engine().containers.get(naming.server_container_name(name, SERVER))
    assert lab.exec_run(["sh", "-c", "echo old-secret > /home/lab/workspace/notes.txt"]).exit_code == 0
    assert (
        hub.api(session, "POST", f"users/{name}/servers/{SERVER}/extend-session", json={"hours": 1}).status_code == 200
    )
    assert hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"OLD": "1"}}).status_code == 200
    consent_and_grant(hub, session, name)
    wait_for(
        lambda: rows(hub, "usage.sqlite", "samples", name) and rows(hub, "activity.sqlite", "samples", name),
        what="usage and activity samples",
        timeout=120,
    )
    r = hub.api(session, "DELETE", f"users/{name}/servers/{SERVER}")
    assert r.status_code in (202, 204), r.text
    wait_for(
        lambda: SERVER not in hub.api(session, "GET", f"users/{name}").json()["servers"], what="the stop", timeout=120
    )
    back_up(hub, name)
    assert any(v.startswith(naming.server_container_name(name, SERVER)) for v in volumes_of(name))
    assert f"labaccess-{name}" in admin_roles(hub)

    r = hub.api(admin, "DELETE", f"admin/users/{name}", json={"remove_volumes": True})
    assert r.status_code == 200, r.text
    deleted_at = time.time()
    hub.signup(name)  # a newcomer takes the name
    hub.authorize(name)
    newcomer = hub.login(name)

    assert volumes_of(name) == [], "the old user's volumes are still there for the newcomer"
    assert archives_of(name) == [], "the old user's backups are still there, restorable into the newcomer"
    assert all(v.get("last_backup") is None for v in hub.api(admin, "GET", f"users/{name}/backups").json()["volumes"])
    access = hub.api(newcomer, "GET", f"users/{name}/lab-access").json()
    assert access["consent"] is False and access["grants"] == []
    assert f"labaccess-{name}" not in admin_roles(hub)
    assert hub.api(newcomer, "GET", f"users/{name}/environment").json()["environment"] == {}
    assert rows(hub, "session.sqlite", "session_extensions", name) == []
    assert all(
        r[2] >= deleted_at for r in hub.store_rows("usage.sqlite", "SELECT * FROM samples WHERE username = ?", name)
    ), "the old user's usage counts as the newcomer's"
    assert rows(hub, "usage.sqlite", "events", name) == []
    assert all(
        ts >= deleted_at
        for (ts,) in hub.store_rows("activity.sqlite", "SELECT ts FROM samples WHERE username = ?", name)
    )


def test_a_rename_carries_every_record(hub):
    admin = hub.admin_session()
    old, session = hub.new_user("rn")
    for vol in naming.user_volume_names(old).values():
        engine().volumes.create(vol)
    consent_and_grant(hub, session, old)
    assert hub.api(session, "PUT", f"users/{old}/environment", json={"environment": {"MINE": "1"}}).status_code == 200
    back_up(hub, old)
    before = {v["key"]: v["last_backup"] for v in hub.api(admin, "GET", f"users/{old}/backups").json()["volumes"]}
    assert all(before.values())

    new = old + "x"
    r = hub.api(admin, "PATCH", f"users/{old}", json={"name": new})
    assert r.status_code == 200, r.text

    access = hub.api(admin, "GET", f"users/{new}/lab-access").json()
    assert access["consent"] is True and [g["admin"] for g in access["grants"]] == [hub.admin]
    roles = admin_roles(hub)
    assert f"labaccess-{new}" in roles and f"labaccess-{old}" not in roles
    after = {v["key"]: v["last_backup"] for v in hub.api(admin, "GET", f"users/{new}/backups").json()["volumes"]}
    assert after == before
    assert hub.api(admin, "GET", f"users/{new}/environment").json()["environment"] == {"MINE": "1"}
    # nothing stays under the old name for someone who takes it
    hub.signup(old)
    hub.authorize(old)
    newcomer = hub.login(old)
    access = hub.api(newcomer, "GET", f"users/{old}/lab-access").json()
    assert access["consent"] is False and access["grants"] == []
    assert rows(hub, "backups.sqlite", "volumes", old) == []
