"""Culling that knows who is busy, in Chromium on a real hub: an admin gives a group a short idle
timeout on the Policies page (the site's is an hour); a member's cell that works for longer than
it keeps its lab (its tab closed, so nothing but the running kernel speaks for it), while another
member's idle lab beside it is warned inside JupyterLab and stopped."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from urllib.parse import quote

from browser import quiet_lab
from harness import PASSWORD, REPO, unique_name, wait_for
from playwright.sync_api import expect

SCREENSHOTS = REPO / "docs" / "screenshots"
TIMEOUT, INTERVAL, WARNING = 30, 2, 15  # TIMEOUT: the group's
CELL_SECONDS = 100  # more than three idle timeouts
HUB_ENV = {
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",  # the site's: the group's policy is what applies here
    "JUPYTERHUB_IDLE_CULLER_INTERVAL": str(INTERVAL),
    "JUPYTERHUB_IDLE_CULLER_WARNING": str(WARNING),
}
NOTEBOOK = "long.ipynb"
DONE = "long-cell-done.txt"


def login_to(page, hub, name, target_path):
    page.goto(hub.hub_url + "login?next=" + quote(target_path))
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")


def running(hub, name) -> bool:
    server = hub.api(hub.admin_session(), "GET", f"users/{name}").json().get("servers", {}).get("")
    return bool(server and server.get("ready"))


def culler_lines(hub, word, name):
    return [line for line in hub.log_text().splitlines() if f"idle-culler] {word} {name}:" in line]


def test_a_busy_kernel_keeps_its_lab_while_an_idle_lab_is_warned_and_stopped(hub, browser):
    worker, worker_s = hub.new_user("busy")
    idler, idler_s = hub.new_user("idle")
    admin = hub.admin_session()
    group = unique_name("short")
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [worker, idler]}).status_code == 200
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # the admin sets the group's idle timeout on the Policies page
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        policies = ctx.new_page()
        login_to(policies, hub, hub.admin, "/jupyterhub/hub/policies")
        policies.locator(f'#policies-table tr[data-group="{group}"] .policy-edit').click()
        policies.fill("#p-idle", str(TIMEOUT / 60))
        policies.click("#policy-save")
        expect(policies.locator("#policy-saved")).to_be_visible()
        expect(policies.locator(f'#policies-table tr[data-group="{group}"]')).to_contain_text(f"idle {TIMEOUT} s")
    finally:
        ctx.close()
    assert hub.api(admin, "GET", f"groups/{group}/policy").json()["policy"]["idle_timeout_seconds"] == TIMEOUT

    hub.start_server(worker_s, worker)
    source = f"import pathlib, time\ntime.sleep({CELL_SECONDS})\npathlib.Path({DONE!r}).write_text('done')"
    cell = {"cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None}
    content = {
        "cells": [cell],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    token = hub.token_for(worker)
    r = hub.lab(worker, "PUT", f"api/contents/{NOTEBOOK}", token=token, json={"type": "notebook", "content": content})
    assert r.status_code in (200, 201), r.text

    # the worker runs the long cell in JupyterLab, then closes the tab
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        lab = ctx.new_page()
        lab.set_default_timeout(120_000)
        login_to(lab, hub, worker, f"/jupyterhub/user/{worker}/lab/tree/{NOTEBOOK}")
        lab.locator(".jp-Notebook .jp-Cell .cm-content").first.wait_for()
        expect(lab.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=120_000)  # the kernel is up
        quiet_lab(lab)
        lab.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        lab.locator(
            '.jp-NotebookPanel-toolbar [data-jp-item-name="run"] button, '
            '.jp-NotebookPanel-toolbar [data-jp-item-name="run"]'
        ).first.click()
        expect(lab.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").first).to_contain_text("[*]", timeout=60_000)
        lab.screenshot(path=str(SCREENSHOTS / "culling-busy-cell.png"))
    except Exception:
        (REPO / "test-artifacts" / "screenshots").mkdir(parents=True, exist_ok=True)
        lab.screenshot(path=str(REPO / "test-artifacts" / "screenshots" / "FAILED-culling-busy-cell.png"))
        raise
    finally:
        ctx.close()
    cell_started = time.monotonic()

    # an idle lab beside it: its start got the group's timeout; warned inside JupyterLab, then stopped
    hub.start_server(idler_s, idler)
    info = hub.api(idler_s, "GET", f"users/{idler}/session-info").json()
    assert info["timeout_seconds"] == TIMEOUT and info["limits_from"] == f"idle timeout from group {group}"
    assert wait_for(lambda: culler_lines(hub, "warned", idler), TIMEOUT + 10 * INTERVAL), "the idle lab was not warned"
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        idle_lab = ctx.new_page()
        idle_lab.set_default_timeout(120_000)
        login_to(idle_lab, hub, idler, f"/jupyterhub/user/{idler}/lab")
        toast = idle_lab.locator(".Toastify__toast", has_text="will be stopped")
        expect(toast.first).to_be_visible(timeout=60_000)
        quiet_lab(idle_lab)
        idle_lab.wait_for_timeout(1500)  # the toast's slide-in
        idle_lab.screenshot(path=str(SCREENSHOTS / "culling-warning.png"))
    finally:
        ctx.close()  # looking was activity: the next deadline counts from here
    assert wait_for(lambda: not running(hub, idler), 2 * TIMEOUT + 20 * INTERVAL), "the idle lab was not stopped"
    assert culler_lines(hub, "culled", idler)

    # the busy lab lived on well past its idle timeout with only its kernel working, and the
    # culler said why; its cell then finished
    assert time.monotonic() - cell_started > TIMEOUT + 3 * INTERVAL
    assert running(hub, worker)
    assert culler_lines(hub, "busy", worker) and "kernel running code" in culler_lines(hub, "busy", worker)[0]
    assert not culler_lines(hub, "culled", worker) and not culler_lines(hub, "warned", worker)

    def finished():
        r = hub.lab(worker, "GET", f"api/contents/{DONE}", token=token, params={"no_track_activity": "1"})
        return r.status_code == 200

    assert wait_for(finished, CELL_SECONDS + 60, step=2), "the long cell did not finish"
    assert running(hub, worker)
    assert not culler_lines(hub, "culled", worker)
    started = hub.api(worker_s, "GET", f"users/{worker}").json()["servers"][""]["started"]
    age = datetime.now(timezone.utc) - datetime.fromisoformat(started.replace("Z", "+00:00"))
    assert age.total_seconds() > CELL_SECONDS > 3 * TIMEOUT
