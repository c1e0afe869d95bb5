"""Admins see who is over their soft storage quota, in Chromium: the Policies page's storage
table and the Activity page's Volumes column; the user's own My lab card shows use against it."""

from __future__ import annotations

from urllib.parse import quote

from harness import PASSWORD, RUN_PREFIX, engine
from playwright.sync_api import expect

from stellars_hub import naming


def _login(page, hub, name, path):
    page.goto(hub.hub_url + "login?next=" + quote(path))
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")


def test_over_quota_is_visible_to_admins_and_the_user(hub, browser, page):
    admin = hub.admin_session()
    group = f"{RUN_PREFIX}pquota"
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    assert hub.api(admin, "PUT", f"groups/{group}/policy", json={"quota_gb": 0.002}).status_code == 200
    name, session = hub.new_user("pqo")
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [name]}).status_code == 200
    hub.start_server(session, name)
    lab = engine().containers.get(naming.container_name(name))
    assert lab.exec_run(["sh", "-c", "head -c 4000000 /dev/urandom > /home/lab/workspace/big.bin"]).exit_code == 0

    _login(page, hub, hub.admin, "/jupyterhub/hub/policies")
    page.wait_for_url("**/hub/policies")
    row = page.locator(f"#storage-table tr[data-user='{name}']")
    expect(row).to_contain_text("over quota")
    expect(row).to_contain_text(group)
    page.goto(hub.hub_url + "activity")
    expect(page.locator("#activity-table .activity-over-quota")).to_have_count(1)
    expect(page.locator("#activity-table .activity-over-quota")).to_contain_text("(quota 2.0 MB)")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        mine = context.new_page()
        _login(mine, hub, name, "/jupyterhub/hub/home")
        mine.wait_for_url("**/hub/home")
        expect(mine.locator("#lab-storage")).to_contain_text("of 2.0 MB (over quota)")
        expect(mine.locator("#lab-storage-from")).to_have_text(f"from {group}")
    finally:
        context.close()
    hub.stop_server(session, name)
