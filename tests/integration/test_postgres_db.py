"""JUPYTERHUB_DB_URL naming PostgreSQL: a real (throwaway) PostgreSQL server behind the hub."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from harness import free_port


@pytest.fixture
def postgres():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.fail("PostgreSQL server binaries missing: make test installs Debian's postgresql")
    bindir = bins[-1]
    data = Path(tempfile.mkdtemp(prefix="stellars-pg-"))  # outside pytest's 0700 tmp tree
    as_user = []
    if os.geteuid() == 0:  # the server refuses to run as root
        pw = pwd.getpwnam("postgres")
        shutil.chown(data, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*as_user, f"{bindir}/initdb", "-D", str(data), "--auth=trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_user,
            f"{bindir}/pg_ctl",
            "-D",
            str(data),
            "-l",
            str(data / "log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {data} -c listen_addresses=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "jupyterhub"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/jupyterhub"
    finally:
        subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_hub_on_postgresql(make_hub, postgres):
    hub = make_hub(JUPYTERHUB_DB_URL=postgres)
    name, session = hub.new_user("pg")
    hub.start_server(session, name)
    assert hub.api(session, "GET", f"users/{name}").json()["servers"][""]["ready"]
    assert not (hub.data_dir / "jupyterhub.sqlite").exists()
    out = subprocess.run(
        ["psql", postgres, "-tAc", "select count(*) from users_info"], capture_output=True, text=True, check=True
    )
    assert int(out.stdout) >= 2  # the admin and this user signed up into PostgreSQL
