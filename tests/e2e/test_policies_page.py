"""The Policies page in Chromium: an admin finds it in the navigation, edits a group's policy,
sees the hub's error for a refused one (and nothing saved), and the table shows the saved one."""

from __future__ import annotations

from urllib.parse import quote

from browser import open_admin_page
from harness import PASSWORD, RUN_PREFIX
from playwright.sync_api import expect


def test_edit_a_policy_and_see_a_refusal(hub, page):
    group = f"{RUN_PREFIX}e2epol"
    assert hub.api(hub.admin_session(), "POST", f"groups/{group}").status_code == 201

    page.goto(hub.hub_url + "login?next=" + quote("/jupyterhub/hub/home"))
    page.fill("#username_input", hub.admin)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url("**/hub/home")
    open_admin_page(page, "policies")
    page.wait_for_url("**/hub/policies")

    row = page.locator(f"#policies-table tr[data-group='{group}']")
    expect(row).to_contain_text("default")
    sock_row = page.locator("#policies-table tr[data-group='docker-sock']")
    expect(sock_row).to_contain_text("Docker socket (root on the host)")
    expect(sock_row).to_contain_text("built-in")

    row.locator(".policy-edit").click()
    expect(page.locator("#policy-group")).to_have_text(group)
    page.fill("#p-memory", "3072")
    page.fill("#p-cpus", "1.5")
    page.select_option("#p-gpus", "ids")
    page.fill("#p-gpu-ids", "0,1")
    page.fill("#p-env", "JUPYTERHUB_API_TOKEN=stolen")
    page.click("#policy-save")
    error = page.locator("#policy-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("env.JUPYTERHUB_API_TOKEN")
    expect(error).to_contain_text("nothing was saved")
    assert hub.api(hub.admin_session(), "GET", f"groups/{group}/policy").json()["policy"] == {}

    page.fill("#p-env", "DATASET=imagenet")
    page.click("#policy-save")
    expect(page.locator("#policy-saved")).to_contain_text(f"Saved the policy of {group}")
    expect(row).to_contain_text("3072 MiB")
    expect(row).to_contain_text("0, 1")
    expect(row).to_contain_text("DATASET")
    saved = hub.api(hub.admin_session(), "GET", f"groups/{group}/policy").json()["policy"]
    assert saved == {"memory_mb": 3072, "cpus": 1.5, "gpus": ["0", "1"], "env": {"DATASET": "imagenet"}}

    # the built-in group's privilege cannot be unticked on the page
    sock_row.locator(".policy-edit").click()
    expect(page.locator("#p-sock")).to_be_checked()
    expect(page.locator("#p-sock")).to_be_disabled()
