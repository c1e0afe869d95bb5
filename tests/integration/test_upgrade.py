"""An upgrade on a real hub and engine: the previous release (its own venv, tests/previousrelease.py)
fills a data directory (users with passwords, a group policy in JupyterHub's group properties as
that release kept it, a user's variables, consent, a broadcast in the history, a running lab with
a file), then this release starts on it: the policy is taken over into the policies' store once
(one audit line, the group property gone), every store's migrations run once, nothing is lost,
the running lab is still the user's (same container, reached through the new hub's proxy with
the user's token). A data directory a newer release wrote is refused with the reason, whether
its layout record or one of its stores says so."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import hubdrill
import pytest
from harness import ARTIFACTS, TEST_ENV, Hub, engine, remove_test_objects
from previousrelease import venv_bin

from stellars_hub import datadir, features, naming  # noqa: F401  (features: every store class imported)

PREVIOUS_ENV = {**TEST_ENV, "JUPYTERHUB_FORWARDED_HOPS": "0"}  # that release's name for "no proxy in front"
POLICY = {"memory_mb": 640, "env": {"TEAM_COLOUR": "green"}}
NOTES = "written under the previous release"


def keep_log(hub: Hub) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    if hub.log_path.exists():
        shutil.copy(hub.log_path, ARTIFACTS / f"hub-{hub.port}.log")


@pytest.fixture
def hubs(docker_engine):
    started: list[Hub] = []
    yield started
    for hub in started:
        hub.stop()
        keep_log(hub)
    remove_test_objects()


def db_rows(data_dir: Path, file: str, sql: str) -> list:
    with closing(sqlite3.connect(data_dir / file)) as conn:
        return conn.execute(sql).fetchall()


def user_versions(data_dir: Path) -> dict[str, int]:
    return {
        cls.FILE_NAME: db_rows(data_dir, cls.FILE_NAME, "PRAGMA user_version")[0][0]
        for cls in datadir.store_classes()
        if (data_dir / cls.FILE_NAME).exists()
    }


def policy_imports(data_dir: Path, group: str) -> list[dict]:
    lines = [json.loads(line) for line in (data_dir / "audit.log").read_text().splitlines() if line.strip()]
    return [e for e in lines if e.get("action") == "policy-import" and e.get("target") == f"group:{group}"]


def refused_start(data_dir: Path) -> str:
    hub = Hub(data_dir=data_dir, env=TEST_ENV)
    with pytest.raises(RuntimeError, match="hub exited with 2") as exc:
        hub.start()
    hub.stop()
    return str(exc.value)


def test_the_previous_release_s_data_directory_and_running_lab_carry_over(hubs, tmp_path_factory):
    old_bin, _built = venv_bin()
    data_dir = tmp_path_factory.mktemp("upgrade")
    old = Hub(data_dir=data_dir, env=PREVIOUS_ENV, bin_dir=old_bin)
    hubs.append(old)
    old.start()
    drill = hubdrill.fill(old, "up", POLICY, {"ANN_VAR": "u1"})
    ann, group = drill.ann, drill.group
    lab = engine().containers.get(naming.container_name(ann))
    code, out = lab.exec_run(["sh", "-c", f"printf '%s' '{NOTES}' > /home/lab/workspace/notes.txt"])
    assert code == 0, out
    # the previous release as the upgrade meets it: no layout record, the policy in the group's properties
    assert not (data_dir / datadir.FILE_NAME).exists()
    [(props,)] = db_rows(data_dir, "jupyterhub.sqlite", f"SELECT properties FROM groups WHERE name = '{group}'")
    assert json.loads(props)["stellars_policy"] == POLICY
    old.stop()
    assert engine().containers.get(lab.id).status == "running"  # labs outlive the hub

    ports = {"port": old.port, "hub_port": old.hub_port, "api_port": old.api_port}  # the lab calls the hub there
    new = Hub(data_dir=data_dir, env=TEST_ENV, **ports)
    hubs.append(new)
    new.start()
    admin = new.admin_session()
    # the policy moved into the policies' store, once, and out of the group's properties
    assert new.api(admin, "GET", f"groups/{group}/policy").json()["policy"] == POLICY
    [(props,)] = db_rows(data_dir, "jupyterhub.sqlite", f"SELECT properties FROM groups WHERE name = '{group}'")
    assert "stellars_policy" not in json.loads(props or "{}")
    assert len(policy_imports(data_dir, group)) == 1
    record = datadir.read_layout(data_dir)
    assert record["layout"] == datadir.LAYOUT and record["upgraded_from"] == 1
    versions = user_versions(data_dir)
    assert "environment.sqlite" in versions and all(
        v == len(cls.MIGRATIONS) for cls in datadir.store_classes() for f, v in versions.items() if f == cls.FILE_NAME
    )
    hubdrill.assert_kept(new, drill)  # nothing lost
    # the running lab is still hers: the same container, ready, reached through the new proxy
    model = new.api(admin, "GET", f"users/{ann}").json()
    assert model["servers"][""]["ready"] is True
    assert engine().containers.get(naming.container_name(ann)).id == lab.id
    r = new.lab(ann, "GET", "api/contents/notes.txt")
    assert r.status_code == 200 and r.json()["content"] == NOTES, r.text

    # started again: nothing runs twice
    new.stop()
    again = Hub(data_dir=data_dir, env=TEST_ENV, **ports)
    hubs.append(again)
    again.start()
    assert len(policy_imports(data_dir, group)) == 1 and user_versions(data_dir) == versions
    assert again.api(again.admin_session(), "GET", f"groups/{group}/policy").json()["policy"] == POLICY
    again.stop()

    # a newer release's data directory is refused, by its layout record or by one of its stores
    newer = {**record, "layout": datadir.LAYOUT + 1, "release": "9.9.9"}
    (data_dir / datadir.FILE_NAME).write_text(json.dumps(newer))
    reason = refused_start(data_dir)
    assert "written by a newer release" in reason and "9.9.9" in reason, reason[-800:]
    (data_dir / datadir.FILE_NAME).write_text(json.dumps(record))
    with closing(sqlite3.connect(data_dir / "environment.sqlite")) as conn:
        conn.execute("PRAGMA user_version = 40")
    reason = refused_start(data_dir)
    assert "environment.sqlite was written by a newer release" in reason, reason[-800:]
    assert engine().containers.get(lab.id).status == "running"  # a refused start touches no lab
