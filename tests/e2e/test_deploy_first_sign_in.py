"""The README's first sign-in, walked as written, in Chromium against the compose stack that
`make up` runs (scripts/up.sh; the test stack's host-network override, tests/integration):
open the address it printed, accept the self-signed certificate, run the README's command for the
generated password (with the container name `make up` printed), paste what it prints, log in,
change the password on Change Password, delete the file with the README's command.

A compose deployment test: run it only under `flock /tmp/stellars-deploy.lock` (one stack at a
time on a machine). About two minutes, most of it the stack's start."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from harness import ARTIFACTS, REPO, unique_name

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from deploy_stack import Stack  # noqa: E402

SCREENSHOTS = REPO / "docs" / "screenshots"
PASSWORD_FILE = "/data/initial-admin-password"


def readme_first_sign_in() -> str:
    text = (REPO / "README.md").read_text()
    return text.split("### First sign-in", 1)[1].split("\n## ", 1)[0]


def run(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def stack(docker_engine, tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("first"), label="first")
    s.env.pop("JUPYTERHUB_ADMIN_PASSWORD")  # the first start generates the admin's password
    s.write_config()
    try:
        yield s
    finally:
        s.tear_down()


def test_the_readmes_first_sign_in_as_written(stack, browser):
    steps = readme_first_sign_in()
    read_command = re.search(r"docker exec (\S+) cat (\S+)", steps)
    delete_command = re.search(r"`(docker exec (\S+) rm (\S+))`", steps)
    assert read_command and delete_command, "the README's first sign-in lost its commands"
    assert read_command[2] == delete_command[3] == PASSWORD_FILE
    readme_name = read_command[1]
    assert readme_name == delete_command[2] == "stellars-jupyterhub"  # make up's default project

    out = stack.up()
    # make up names the hub's container (the README's name, for this stack's project) and prints
    # the README's command with it; no 64-character id
    name = f"{stack.project}-jupyterhub"
    assert readme_name.replace("stellars", stack.project, 1) == name
    assert not re.search(r"\b[0-9a-f]{64}\b", out), out
    printed = re.search(r"^\s*(docker exec \S+ cat \S+)\s*$", out, re.M)
    assert printed and printed[1] == read_command[0].replace(readme_name, name), out
    address = re.search(r"running at (https://\S+/)", out)[1]
    assert address == f"https://localhost:{stack.https_port}/jupyterhub/"

    # the README's command prints exactly what to paste: the password, nothing else
    shown = run(printed[1])
    assert shown.returncode == 0, shown.stderr
    pasted = shown.stdout.rstrip("\n")
    assert pasted and "\n" not in pasted and "\t" not in pasted and stack.admin not in pasted

    context = browser.new_context(viewport={"width": 1280, "height": 900}, ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(address)  # step 1: the address make up printed; the certificate accepted
        page.wait_for_selector("#username_input")
        page.fill("#username_input", stack.admin)  # step 2 (JUPYTERHUB_ADMIN names the admin here)
        page.fill("#password_input", pasted)
        page.click("#login_submit")
        # signed in: JupyterHub goes on to start the admin's lab; back to the hub's pages
        page.wait_for_url(lambda url: "/hub/login" not in url)
        page.goto(address + "hub/home")
        page.click("#nav-change-password")
        page.wait_for_url("**/hub/change-password")
        new = "Admin-own-pw-" + unique_name("x")[-4:]
        page.fill("#old_password_input", pasted)
        page.fill("#new_password_input", new)
        page.fill("#new_password_confirmation_input", new)
        page.click("#signup_submit")
        page.wait_for_selector("text=changed successfully")
        page.goto(address + "hub/home")
        page.wait_for_function("document.getElementById('lab-memory').textContent.trim() !== '\u2013'")
        page.click("#nav-admin-toggle")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOTS / "first-sign-in.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 520}
        )

        # then delete the file, with the README's command
        removed = run(delete_command[1].replace(readme_name, name))
        assert removed.returncode == 0, removed.stderr
        assert run(f"docker exec {name} test -e {PASSWORD_FILE}").returncode != 0

        # the new password is the admin's login now, the generated one no more
        page.click("#logout")
        for password, works in ((pasted, False), (new, True)):
            page.goto(address + "hub/login?next=" + "/jupyterhub/hub/token")
            page.fill("#username_input", stack.admin)
            page.fill("#password_input", password)
            page.click("#login_submit")
            if works:
                page.wait_for_url("**/hub/token")
            else:
                page.wait_for_selector("text=Invalid username or password")
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "FAILED-first-sign-in.png"), full_page=True)
        raise
    finally:
        context.close()
