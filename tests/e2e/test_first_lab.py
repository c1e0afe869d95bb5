"""A newcomer signs up, is authorised, logs in and starts a lab, all in Chromium."""

from browser import login
from harness import PASSWORD, unique_name


def test_signup_login_start_lab(hub, page):
    hub.admin_session()
    name = unique_name("e2e")

    page.goto(hub.hub_url + "signup")
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.fill("#password_confirmation_input", PASSWORD)
    page.click("#signup_submit")
    page.wait_for_selector("text=Your information has been sent to the admin")

    hub.authorize(name)
    login(page, hub, name, PASSWORD)
    # after login JupyterHub spawns the default server and lands in JupyterLab
    page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    assert f"/user/{name}/lab" in page.url
