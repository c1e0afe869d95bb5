"""stellars-hub check/run and the NativeAuthenticator shim against a real hub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests
from harness import REPO

CLI = str(Path(sys.executable).parent / "stellars-hub")


def _run(args, **env):
    return subprocess.run([CLI, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60, cwd=REPO)


def test_check_prints_settings_with_secret_masked():
    r = _run(["check"], JUPYTERHUB_DB_URL="postgresql://hub:s3cret@db/hub")
    assert r.returncode == 0, r.stderr
    assert "JUPYTERHUB_BASE_URL" in r.stdout and "s3cret" not in r.stdout and "********" in r.stdout


def test_check_and_run_refuse_bad_values_naming_each(tmp_path):
    bad = {
        "JUPYTERHUB_GPU_ENABLED": "5",
        "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "soon",
        "JUPYTERHUB_DATA_DIR": str(tmp_path),
    }
    for args in (["check"], ["run", "--", "--port", "1"]):
        r = _run(args, **bad)
        assert r.returncode == 2, (args, r.stderr)
        assert "JUPYTERHUB_GPU_ENABLED" in r.stderr and "one of 0, 1, 2" in r.stderr
        assert "JUPYTERHUB_IDLE_CULLER_TIMEOUT" in r.stderr and "whole number" in r.stderr
    assert not (tmp_path / "jupyterhub.sqlite").exists()  # the hub never started


def test_signups_other_than_the_admin_wait_for_approval(hub):
    hub.admin_session()  # the configured admin logs in with JUPYTERHUB_ADMIN_PASSWORD
    r = hub.signup(hub.admin + "x")  # not the admin: waits for approval
    assert "sent to the admin" in r.text
    s = requests.Session()
    s.get(hub.hub_url + "login")
    r = s.post(
        hub.hub_url + "login",
        data={"username": hub.admin + "x", "password": "Stellars-test-pw-42", "_xsrf": s.cookies.get("_xsrf")},
        allow_redirects=False,
    )
    assert r.status_code == 200 and "has not been authorized" in r.text


def test_login_errors_render_the_login_page_not_500(hub):
    # no xsrf token: JupyterHub 6 renders this error through the login page (sync=True)
    r = requests.post(hub.hub_url + "login", data={"username": "x", "password": "y"})
    assert r.status_code == 403
    assert "Sign In" in r.text and "Login form invalid or expired" in r.text
    assert "Traceback" not in hub.log_text()


def test_wrong_password_says_so(hub):
    hub.admin_session()
    s = requests.Session()
    s.get(hub.hub_url + "login")
    r = s.post(
        hub.hub_url + "login",
        data={"username": hub.admin, "password": "wrong-password-1", "_xsrf": s.cookies.get("_xsrf")},
        allow_redirects=False,
    )
    assert r.status_code == 200 and "Invalid username or password" in r.text


def test_root_base_url_has_no_double_slashes(make_hub):
    hub = make_hub(JUPYTERHUB_BASE_URL="/")
    r = requests.get(hub.hub_url + "login")
    assert r.status_code == 200
    assert "//hub" not in r.text.replace("://", "")
