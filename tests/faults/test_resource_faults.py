"""The hub's machine runs out of something: its data disk fills up (the data directory on a small
tmpfs of its own, filled by the test), or another program holds its database or a store locked.
Reads keep working, writes answer with the reason (507, 503) and change nothing, and everything
works again once the fault is gone. No lab is needed: these are the hub's own files."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from accessmatrix import ROWS
from enginegate import EngineGate
from faultkit import FaultHub, assert_hub_matches_engine
from harness import TEST_ENV, remove_test_objects
from survival import survives

TMPFS_SIZE = "64m"
FULL = "the hub's data disk is full"
BUSY = "the hub's database is busy"


@dataclass
class TmpfsHub(FaultHub):
    log_dir: Path | None = None  # the log stays off the disk that fills up

    @property
    def log_path(self) -> Path:
        return (self.log_dir or self.data_dir) / "hub.log"


@pytest.fixture(scope="module")
def hub(docker_engine, tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the hub's data directory needs root (make test runs as root)")
    data = tmp_path_factory.mktemp("tmpfs-data")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(data)], check=True)
    gate = EngineGate(str(tmp_path_factory.mktemp("gate") / "engine.sock")).open()
    h = TmpfsHub(
        data_dir=data,
        env={**TEST_ENV, "DOCKER_HOST": gate.docker_host},
        gate=gate,
        log_dir=tmp_path_factory.mktemp("log"),
    )
    try:
        yield h.start(timeout=120)
    finally:
        h.stop()
        gate.close()
        subprocess.run(["umount", "-l", str(data)], check=False)
        remove_test_objects()


def _fill(directory: Path) -> Path:
    """A file that takes every free byte of the data directory's disk."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096, 1):  # big writes, then the last bytes they could not take
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def _readiness(hub, want: int, timeout: float = 20) -> dict:
    """The readiness answer once it is ``want`` (its probes keep an answer for 5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(hub.hub_url + "readiness", timeout=30)
        if r.status_code == want or time.monotonic() > deadline:
            assert r.status_code == want, r.text
            return r.json()
        time.sleep(1)


def _url(hub, pattern: str, target: str, row) -> str:
    path = re.sub(r"\([^)]*\)", row.path or target, pattern, count=1)  # as the permission matrix
    return hub.base.rstrip("/") + "/hub" + re.sub(r"\([^)]*\)", "noserver", path)


def _broadcasts(hub) -> list:
    return hub.api(hub.admin_session(), "GET", "notifications/history").json()["broadcasts"]


@survives("disk-full")
def test_full_data_disk_refuses_writes_with_the_reason_and_keeps_reads(hub):
    admin = hub.admin_session()
    name, session = hub.new_user("df")
    assert hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"A": "1"}}).status_code == 200
    before = len(_broadcasts(hub))
    filler = _fill(hub.data_dir)
    try:
        body = _readiness(hub, 503)
        assert body["checks"]["data_disk"].startswith("full: ") and "data_disk" in body["down"], body

        # reads keep working: JupyterHub's pages and API, the platform's
        assert session.get(hub.hub_url + "home", timeout=30).status_code == 200
        assert hub.api(admin, "GET", "users").status_code == 200
        assert hub.api(session, "GET", f"users/{name}/environment").json()["environment"] == {"A": "1"}
        assert hub.api(admin, "GET", "activity").status_code == 200
        assert len(_broadcasts(hub)) == before

        # every platform route that changes something: 507 with the reason, before it begins
        xsrf = {"X-XSRFToken": admin.cookies.get("_xsrf", path=hub._cookie_path())}
        walked = 0
        for (pattern, method), row in ROWS.items():
            if method in ("GET", "HEAD") or row.ok == 405:
                continue
            body = None if row.body is None else json.loads(json.dumps(row.body).replace("{t}", name))
            r = admin.request(
                method, _url(hub, pattern, name, row), json=body, headers=xsrf, timeout=30, allow_redirects=False
            )
            assert r.status_code == 507, (method, pattern, r.status_code, r.text[:300])
            if not row.page:
                assert r.json()["message"].startswith(FULL), (method, pattern, r.text)
            walked += 1
        assert walked >= 20
        assert len(_broadcasts(hub)) == before  # the refused broadcast was neither sent nor recorded

        # JupyterHub's own writes: its database's full disk is said too, never a bare 500
        statuses = set()
        for _ in range(200):
            r = hub.api(admin, "POST", f"users/{name}/tokens", json={"note": "while full"})
            statuses.add(r.status_code)
            if r.status_code != 201:
                assert r.status_code == 507 and r.json()["message"].startswith(FULL), r.text
                break
        assert 507 in statuses, statuses
    finally:
        filler.unlink()

    _readiness(hub, 200)
    sent = hub.api(admin, "POST", "notifications/broadcast", json={"message": "space again", "recipients": [name]})
    assert sent.status_code == 200, sent.text
    assert len(_broadcasts(hub)) == before + 1  # sent once: nothing of the refused one came back
    assert hub.api(admin, "POST", f"users/{name}/tokens", json={"note": "space again"}).status_code == 201
    r = hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"A": "2"}})
    assert r.status_code == 200
    assert hub.api(session, "GET", f"users/{name}/environment").json()["environment"] == {"A": "2"}
    assert_hub_matches_engine(hub)


@survives("database-locked")
def test_locked_database_answers_503_with_the_reason_after_a_bounded_wait(hub):
    admin = hub.admin_session()
    name, session = hub.new_user("dbl")
    assert hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"B": "1"}}).status_code == 200

    # JupyterHub's own database, held by another program
    locker = sqlite3.connect(hub.data_dir / "jupyterhub.sqlite", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        r = hub.api(admin, "POST", f"users/{name}/tokens", json={"note": "while locked"})
        assert r.status_code == 503 and r.json()["message"].startswith(BUSY), r.text
        body = _readiness(hub, 503)
        assert body["checks"]["database"].startswith("busy: ") and "jupyterhub.sqlite" in body["checks"]["database"]
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert hub.api(admin, "POST", f"users/{name}/tokens", json={"note": "released"}).status_code == 201

    # a store of the platform's, held by another program
    locker = sqlite3.connect(hub.data_dir / "environment.sqlite", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        r = hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"B": "2"}})
        assert r.status_code == 503 and r.json()["message"].startswith(BUSY), r.text
        assert "environment.sqlite" in _readiness(hub, 503)["checks"]["database"]
        assert hub.api(session, "GET", f"users/{name}/environment").json()["environment"] == {"B": "1"}
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    _readiness(hub, 200)
    assert hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"B": "2"}}).status_code == 200
    assert hub.api(session, "GET", f"users/{name}/environment").json()["environment"] == {"B": "2"}
    assert_hub_matches_engine(hub)
