"""Share my lab in two browsers: the owner shares their running lab from the home page, the
recipient finds it under "Shared with me" and opens it, the owner's lab says who joined, both edit
one notebook at once and see each other's typing (jupyter-collaboration), and revoking on the home
page ends the recipient's access within the lab's auth recheck."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

from browser import quiet_lab
from harness import PASSWORD, REPO
from playwright.sync_api import expect

SCREENSHOTS = REPO / "docs" / "screenshots"
RECHECK = 5
HUB_ENV = {"JUPYTERHUB_LAB_AUTH_RECHECK_SECONDS": str(RECHECK)}
NOTEBOOK = "together.ipynb"


def login_to(page, hub, name, target_path):
    page.goto(hub.hub_url + "login?next=" + quote(target_path))
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")


def make_notebook(hub, owner):
    cells = [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [], "execution_count": None}]
    content = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    r = hub.lab(owner, "PUT", f"api/contents/{NOTEBOOK}", json={"type": "notebook", "content": content})
    assert r.status_code in (200, 201), r.text


def open_notebook(page):
    """Wait for JupyterLab to show the notebook's first cell editor."""
    editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    editor.wait_for(timeout=120_000)
    return editor


def confirm_oauth(page):
    """JupyterHub asks a visitor to authorise access to someone else's lab."""
    try:
        page.wait_for_selector("form [type=submit], #jp-main-dock-panel", timeout=60_000)
    except Exception:
        return
    if page.locator("#jp-main-dock-panel").count() == 0 and page.locator("form [type=submit]").count():
        page.click("form [type=submit]")


def test_share_open_coedit_and_revoke_in_two_browsers(hub, browser):
    owner, owner_s = hub.new_user("sho")
    guest, _ = hub.new_user("shg")
    hub.start_server(owner_s, owner)
    make_notebook(hub, owner)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    owner_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    guest_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        home = owner_ctx.new_page()
        home.set_default_timeout(60_000)
        login_to(home, hub, owner, "/jupyterhub/hub/home")
        card = home.locator("#lab-sharing")
        card.locator('.share-server[data-server=""] .share-form').wait_for()
        card.locator(".share-kind").select_option("user")
        card.locator(".share-name").fill(guest)
        card.locator(".share-submit").click()
        expect(card.locator(f'.share-recipient[data-name="{guest}"]')).to_be_visible()

        # the owner's lab, with the notebook open
        owner_lab = owner_ctx.new_page()
        owner_lab.set_default_timeout(120_000)
        owner_lab.goto(hub.base + f"user/{owner}/lab/tree/{NOTEBOOK}")
        owner_editor = open_notebook(owner_lab)
        quiet_lab(owner_lab)

        # the guest finds it under "Shared with me" and opens it
        guest_home = guest_ctx.new_page()
        guest_home.set_default_timeout(60_000)
        login_to(guest_home, hub, guest, "/jupyterhub/hub/home")
        shared = guest_home.locator(f'#shared-with-me .shared-lab[data-owner="{owner}"]')
        expect(shared).to_be_visible()
        guest_home.locator("#shared-with-me").screenshot(path=str(SCREENSHOTS / "lab-sharing-shared-with-me.png"))
        with guest_ctx.expect_page() as opened:
            shared.locator(".shared-open").click()
        guest_lab = opened.value
        guest_lab.set_default_timeout(120_000)
        confirm_oauth(guest_lab)
        guest_lab.wait_for_selector("#jp-main-dock-panel")
        guest_lab.goto(hub.base + f"user/{owner}/lab/tree/{NOTEBOOK}")
        guest_editor = open_notebook(guest_lab)
        quiet_lab(guest_lab)

        # the owner's lab says who came in, as it does for an administrator
        toast = owner_lab.locator(".Toastify__toast", has_text=f"{guest} has joined your lab")
        expect(toast).to_be_visible(timeout=60_000)
        owner_lab.wait_for_timeout(1500)  # the toast's slide-in
        owner_lab.screenshot(path=str(SCREENSHOTS / "lab-sharing-joined.png"))

        # both type into the same cell and each sees the other's text
        owner_editor.click()
        owner_lab.keyboard.type('print("hello from the owner")')
        expect(guest_editor).to_contain_text("hello from the owner", timeout=60_000)
        guest_editor.click()
        guest_lab.keyboard.press("End")
        guest_lab.keyboard.press("Enter")
        guest_lab.keyboard.type('print("and from the guest")')
        expect(owner_editor).to_contain_text("and from the guest", timeout=60_000)
        guest_lab.screenshot(path=str(SCREENSHOTS / "lab-sharing-coediting.png"))

        # the home page shows who is in, and revokes
        home.reload()
        row = card.locator(f'.share-recipient[data-name="{guest}"]')
        expect(row.locator(".share-in-lab")).to_be_visible(timeout=60_000)
        card.screenshot(path=str(SCREENSHOTS / "lab-sharing.png"))
        row.locator(".share-revoke").click()
        expect(row).to_have_count(0)
        contents = hub.base + f"user/{owner}/api/contents"
        deadline = time.monotonic() + 4 * RECHECK + 60
        status = guest_lab.request.get(contents).status
        while status == 200 and time.monotonic() < deadline:
            time.sleep(1)
            status = guest_lab.request.get(contents).status
        assert status == 403, status
        audit = [json.loads(line) for line in (hub.data_dir / "audit.log").read_text().splitlines()]
        actions = {(e["action"], e["outcome"]) for e in audit if e["target"] == owner}
        assert {("lab-share", "granted"), ("lab-share-join", "joined"), ("lab-share-revoke", "ok")} <= actions
    finally:
        owner_ctx.close()
        guest_ctx.close()
