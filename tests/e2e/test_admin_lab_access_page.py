"""Admin lab access in Chromium: refused without consent, the user's switch on the home page,
the admin opening the lab from /hub/manage/<user>, and the notice in the user's open lab."""

from __future__ import annotations

from urllib.parse import quote

from harness import PASSWORD, REPO
from playwright.sync_api import expect

SCREENSHOTS = REPO / "docs" / "screenshots"


def login_to(page, hub, name, target_path):
    page.goto(hub.hub_url + "login?next=" + quote(target_path))
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")


def test_consent_switch_open_lab_and_the_notice(hub, browser):
    name, session = hub.new_user("lx")
    hub.start_server(session, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    user_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    admin_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        admin = admin_ctx.new_page()
        admin.set_default_timeout(120_000)
        hub.admin_session()  # signs the admin up
        login_to(admin, hub, hub.admin, "/jupyterhub/hub/home")
        admin.goto(hub.hub_url + f"manage/{name}")
        admin.click("#lab-access-open")
        expect(admin.locator("#lab-access-result")).to_contain_text("has not allowed")

        home = user_ctx.new_page()
        home.set_default_timeout(120_000)
        login_to(home, hub, name, "/jupyterhub/hub/home")
        home.wait_for_selector("#lab-access[data-consent='0']")
        home.select_option("#lab-access-hours", "4")
        home.click("#lab-access-switch")
        home.wait_for_selector("#lab-access[data-consent='1']")
        expect(home.locator("#lab-access-state")).to_contain_text("Allowed until")
        home.locator("#lab-access").screenshot(path=str(SCREENSHOTS / "lab-access-consent.png"))

        lab = user_ctx.new_page()
        lab.set_default_timeout(120_000)
        lab.goto(hub.base + f"user/{name}/lab")
        lab.wait_for_selector("#jp-main-dock-panel")

        with admin_ctx.expect_page() as opened:
            admin.click("#lab-access-open")
        expect(admin.locator("#lab-access-result")).to_contain_text("the user was notified")
        their_lab = opened.value
        their_lab.set_default_timeout(120_000)
        if "oauth2/authorize" in their_lab.url or their_lab.locator("form input[name=scopes]").count():
            their_lab.click("form [type=submit]")  # JupyterHub's "authorize access" for someone else's lab
        their_lab.wait_for_selector("#jp-main-dock-panel")

        toast = lab.locator(".Toastify__toast", has_text=f"Administrator {hub.admin} has opened your lab")
        expect(toast).to_be_visible(timeout=60_000)
        lab.screenshot(path=str(SCREENSHOTS / "lab-access-notice.png"))
    finally:
        user_ctx.close()
        admin_ctx.close()
