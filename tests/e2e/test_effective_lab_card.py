"""The user's "My lab" card in Chromium: limits and which group gave them, and their own
variables (a reserved name refused with the hub's message, a valid one saved)."""

from __future__ import annotations

from urllib.parse import quote

from harness import PASSWORD, RUN_PREFIX
from playwright.sync_api import expect


def test_my_lab_card_shows_the_policy_and_edits_my_variables(hub, page):
    admin = hub.admin_session()
    group = f"{RUN_PREFIX}cardgrp"
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    r = hub.api(
        admin,
        "PUT",
        f"groups/{group}/policy",
        json={
            "memory_mb": 16384,
            "gpus": ["1"],
            "env": {"TEAM_BUCKET": "s3://team"},
            "mounts": [{"source": f"{RUN_PREFIX}-cardvol", "target": "/mnt/team", "mode": "rw"}],
        },
    )
    assert r.status_code == 200, r.text
    name, _ = hub.new_user("card")
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [name]}).status_code == 200

    page.goto(hub.hub_url + "login?next=" + quote("/jupyterhub/hub/home"))
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url("**/hub/home")
    expect(page.locator("#lab-memory")).to_have_text("16.0 GiB")
    expect(page.locator("#lab-memory-from")).to_have_text(f"from {group}")
    expect(page.locator("#lab-cpus-from")).to_have_text("default")
    expect(page.locator("#lab-gpus")).to_have_text("devices 1")
    expect(page.locator("#lab-mounts")).to_contain_text(f"/mnt/team ({RUN_PREFIX}-cardvol, read-write, from {group})")
    expect(page.locator("#lab-groups")).to_have_text(group)
    expect(page.locator("#lab-group-env")).to_contain_text("TEAM_BUCKET")

    page.fill("#lab-env", "JPY_API_TOKEN=x\nOK_NAME=1")
    page.click("#lab-env-save")
    expect(page.locator("#lab-env-error")).to_contain_text("environment.JPY_API_TOKEN")
    assert hub.api(admin, "GET", f"users/{name}/environment").json()["environment"] == {}
    page.fill("#lab-env", "TEAM_BUCKET=mine")
    page.click("#lab-env-save")
    expect(page.locator("#lab-env-error")).to_contain_text(f"group {group} sets TEAM_BUCKET")
    page.fill("#lab-env", "OPENAI_BASE_URL=http://127.0.0.1:9/v1\nEMPTY=")
    page.click("#lab-env-save")
    expect(page.locator("#lab-env-saved")).to_be_visible()
    assert hub.api(admin, "GET", f"users/{name}/environment").json()["environment"] == {
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "EMPTY": "",
    }
    page.reload()
    expect(page.locator("#lab-env")).to_have_value("OPENAI_BASE_URL=http://127.0.0.1:9/v1\nEMPTY=")

    # another user cannot read or set this user's variables
    other, other_session = hub.new_user("nosy")
    assert hub.api(other_session, "GET", f"users/{name}/environment").status_code == 403
    assert hub.api(other_session, "PUT", f"users/{name}/environment", json={"environment": {}}).status_code == 403
    assert hub.api(other_session, "GET", f"users/{name}/lab").status_code == 403
