"""The platform as a JupyterHub citizen: the installed package runs by itself, a site's config
file wins over the environment (and the Settings page says so), and renames and deletions
through JupyterHub's REST API keep every store of the platform in step."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
import requests
from harness import REPO, free_port, unique_name


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    """The package built as a wheel and installed, with its pinned dependencies, into a new venv."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy of the checkout, so the build leaves nothing in it
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(source)],
        check=True,
        timeout=300,
    )
    [wheel] = (root / "dist").glob("stellars_jupyterhub_ds-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-c", str(REPO / "constraints.txt"), str(wheel)],
        check=True,
        timeout=600,
    )
    return venv


def test_installed_wheel_runs_from_an_empty_directory(wheel_venv, tmp_path):
    cwd = tmp_path / "empty"
    cwd.mkdir()
    port, hub_port, api_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "STELLARS_"))}
    env.update(
        {
            "JUPYTERHUB_DATA_DIR": str(tmp_path / "data"),
            "JUPYTERHUB_HUB_PORT": str(hub_port),
            "JUPYTERHUB_NETWORK_NAME": "host",
            "JUPYTERHUB_GPU_ENABLED": "0",
        }
    )
    log = open(tmp_path / "hub.log", "wb")
    proc = subprocess.Popen(
        [
            str(wheel_venv / "bin" / "stellars-hub"),
            "run",
            "--",
            "--port",
            str(port),
            f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api_port}",
        ],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/jupyterhub/hub/"

        def up():
            assert proc.poll() is None, (tmp_path / "hub.log").read_text()[-3000:]
            try:
                return requests.get(base + "health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        _wait(up, 90, "the installed hub")
        assert requests.get(base + "login", timeout=10).status_code == 200
        ready = requests.get(base + "readiness", timeout=20)
        assert ready.status_code == 200, ready.text
        assert list(cwd.iterdir()) == []  # it needed nothing from here, and left nothing here
        with closing(sqlite3.connect(tmp_path / "data" / "jupyterhub.sqlite")) as db:  # JUPYTERHUB_DB_SQLITE_WAL
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # its own package, not this checkout
        out = subprocess.run(
            [str(wheel_venv / "bin" / "python"), "-c", "import stellars_hub; print(stellars_hub.__file__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert str(wheel_venv) in out and str(REPO) not in out
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_site_config_wins_over_the_environment_and_settings_say_so(make_hub, tmp_path):
    hub = make_hub(
        extra_config="c.SelfService.restart_timeout = 33\nc.Notifications.timeout = 9\n"
        "c.StellarsHub.db_sqlite_wal = False\n",
        JUPYTERHUB_RESTART_TIMEOUT="20",
    )
    site = hub.site_config_path
    admin = hub.admin_session()
    rows = {r["name"]: r for r in hub.api(admin, "GET", "settings").json()["settings"]}
    restart = rows["JUPYTERHUB_RESTART_TIMEOUT"]
    assert (restart["value"], restart["source"], restart["trait"]) == (
        "33",
        "config file",
        "SelfService.restart_timeout",
    )
    assert rows["JUPYTERHUB_NOTIFICATIONS_TIMEOUT"]["source"] == "config file"
    assert rows["JUPYTERHUB_GPU_ENABLED"]["source"] == "environment"  # the test environment sets it
    assert rows["JUPYTERHUB_SELFSERVICE_RATE_LIMIT"]["source"] == "default"
    with closing(sqlite3.connect(hub.data_dir / "jupyterhub.sqlite")) as db:  # the site turned WAL off
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    page = admin.get(hub.hub_url + "settings", timeout=10).text
    row = page.split('id="setting-JUPYTERHUB_RESTART_TIMEOUT"', 1)[1].split("</tr>", 1)[0]
    assert "33" in row and "config file" in row and "c.SelfService.restart_timeout" in row
    # and the hub acts on it: the culler and the features read the same values
    check = subprocess.run(
        [str(Path(sys.executable).parent / "stellars-hub"), "check", "--config", str(site)],
        env={**os.environ, "JUPYTERHUB_RESTART_TIMEOUT": "20"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    line = next(line for line in check.stdout.splitlines() if "JUPYTERHUB_RESTART_TIMEOUT" in line)
    assert "33" in line and "(config file)" in line


def test_help_all_lists_every_setting():
    from stellars_hub.features import configurables
    from stellars_hub.settings import declared

    SETTINGS = declared(configurables())

    out = subprocess.run(
        [str(Path(sys.executable).parent / "stellars-hub"), "--help-all"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for s in SETTINGS:
        assert f"--{s.trait}=" in out and s.name in out


STORES_ENV = {
    "JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL": "1",
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",
    "JUPYTERHUB_IDLE_CULLER_INTERVAL": "3600",
}


def test_rename_and_delete_keep_every_store_consistent(make_hub):
    hub = make_hub(**STORES_ENV)
    admin = hub.admin_session()
    old = unique_name("st")
    assert hub.api(admin, "POST", f"users/{old}").status_code == 201
    creds = hub.api(admin, "POST", "admin/credentials", json={"usernames": [old]}).json()["credentials"]
    password = creds[0]["password"]
    session = hub.login(old, password)
    hub.start_server(session, old)
    assert hub.api(session, "POST", f"users/{old}/extend-session", json={"hours": 2}).status_code == 200
    sent = hub.api(admin, "POST", "notifications/broadcast", json={"message": "hello", "recipients": [old]})
    assert sent.status_code == 200 and sent.json()["successful"] == 1, sent.text
    rows = hub.store_rows
    samples = lambda name: rows("activity.sqlite", "SELECT count(*) FROM samples WHERE username = ?", name)[0][0]  # noqa: E731
    _wait(lambda: samples(old) >= 1, 30, "activity samples")
    hub.stop_server(session, old)

    new = old + "n"
    r = hub.api(admin, "PATCH", f"users/{old}", json={"name": new})
    assert r.status_code == 200, r.text
    assert rows("session.sqlite", "SELECT hours FROM session_extensions WHERE username = ?", new) == [(2,)]
    assert rows("session.sqlite", "SELECT * FROM session_extensions WHERE username = ?", old) == []
    assert rows("notifications.sqlite", "SELECT status FROM deliveries WHERE username = ?", new) == [("delivered",)]
    assert rows("notifications.sqlite", "SELECT * FROM deliveries WHERE username = ?", old) == []
    _wait(lambda: samples(old) == 0 and samples(new) >= 1, 10, "samples under the new name")
    assert hub.login(new, password).get(hub.hub_url + "home", timeout=10).status_code == 200  # the login moved too
    vols = hub.api(admin, "GET", f"users/{new}/manage-volumes").json()["volumes"]
    assert all(f"jupyterlab-{old}_" in v["name"] for v in vols)  # the files stay theirs

    # refused renames change nothing: a running server
    hub.start_server(hub.login(new, password), new)
    r = hub.api(admin, "PATCH", f"users/{new}", json={"name": old})
    assert r.status_code == 409 and "running server" in r.json()["message"]
    assert hub.api(admin, "GET", f"users/{new}").status_code == 200
    hub.stop_server(hub.login(new, password), new)

    r = hub.api(admin, "DELETE", f"users/{new}")
    assert r.status_code == 204, r.text
    assert rows("session.sqlite", "SELECT * FROM session_extensions WHERE username = ?", new) == []
    _wait(lambda: samples(new) == 0, 10, "the deleted user's samples gone")
    with pytest.raises(AssertionError, match="login of .* failed"):
        hub.login(new, password)  # no login record left
