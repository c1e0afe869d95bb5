"""Restart Server in Chromium after the lab's policy changed: the dialog says the lab will be
recreated and why, and the result says it was (a new container with the new memory limit)."""

from __future__ import annotations

from browser import login
from harness import PASSWORD, RUN_PREFIX, engine
from playwright.sync_api import expect

from stellars_hub import naming


def test_dialog_says_the_lab_is_recreated_when_its_policy_changed(hub, page):
    admin = hub.admin_session()
    group = f"{RUN_PREFIX}rgrp"
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    name, session = hub.new_user("rdlg")
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [name]}).status_code == 200
    login(page, hub, name, PASSWORD)  # JupyterHub starts the lab after login
    page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
    before = engine().api.inspect_container(naming.container_name(name))

    # unchanged: the dialog promises an in-place restart
    page.goto(hub.hub_url + "home")
    page.wait_for_selector("#restart-server:not(.d-none)")
    page.click("#restart-server")
    page.wait_for_selector("#restart-modal.show")
    page.wait_for_timeout(1500)  # the dialog asks the hub whether the lab is current
    expect(page.locator("#restart-recreate")).to_be_hidden()
    page.click("#restart-cancel")
    page.wait_for_selector("#restart-modal", state="hidden")

    # the admin gives the group more memory while the lab runs
    assert hub.api(admin, "PUT", f"groups/{group}/policy", json={"memory_mb": 3072}).status_code == 200
    page.click("#restart-server")
    expect(page.locator("#restart-recreate")).to_be_visible()
    expect(page.locator("#restart-recreate")).to_contain_text("will be recreated")
    expect(page.locator("#restart-recreate-reason")).to_contain_text("changed since it was created")
    page.click("#restart-confirm")
    page.wait_for_selector("#open-lab", timeout=240_000)
    expect(page.locator("#selfservice-result")).to_contain_text("Server recreated with its new settings")
    after = engine().api.inspect_container(naming.container_name(name))
    assert after["Id"] != before["Id"]
    assert after["HostConfig"]["Memory"] == 3072 * 1024 * 1024
