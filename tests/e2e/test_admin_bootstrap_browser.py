"""First start in Chromium: the admin logs in with the generated password and changes it; the
admin's name cannot be signed up for."""

from urllib.parse import quote

from harness import unique_name


def test_first_start_generated_password_login_and_change(make_hub, page):
    hub = make_hub(JUPYTERHUB_ADMIN_PASSWORD="")
    generated = (hub.data_dir / "initial-admin-password").read_text().strip()

    # a stranger trying the admin's name at signup reads why not
    page.goto(hub.hub_url + "signup")
    page.fill("#username_input", hub.admin)
    page.fill("#password_input", "Stranger-pw-99")
    page.fill("#password_confirmation_input", "Stranger-pw-99")
    page.click("#signup_submit")
    page.wait_for_selector("text=belongs to the administrator of this hub")

    # the admin logs in with the generated password (straight to Change Password: no lab spawn)
    page.goto(hub.hub_url + "login?next=" + quote("/" + hub.hub_url.split("/", 3)[3] + "change-password"))
    page.fill("#username_input", hub.admin)
    page.fill("#password_input", generated)
    page.click("#login_submit")
    page.wait_for_url("**/hub/change-password")
    new = "Admin-own-pw-" + unique_name("x")[-4:]
    page.fill("#old_password_input", generated)
    page.fill("#new_password_input", new)
    page.fill("#new_password_confirmation_input", new)
    page.click("#signup_submit")
    page.wait_for_selector("text=changed successfully")

    assert hub.login_status(hub.admin, new) == 302
    assert hub.login_status(hub.admin, generated) == 200
    assert generated not in hub.log_text() and new not in hub.log_text()


def test_authorize_users_buttons_are_forms_that_work(hub, page):
    pending = unique_name("pend")
    assert hub.signup(pending).status_code == 200
    page.goto(hub.hub_url + "login?next=" + quote("/" + hub.hub_url.split("/", 3)[3] + "authorize"))
    page.fill("#username_input", hub.admin)
    page.fill("#password_input", hub.admin_password())
    page.click("#login_submit")
    page.wait_for_url("**/hub/authorize")
    row = page.locator(f"#user-{pending}")
    assert row.locator("td").nth(1).inner_text().strip() == "Pending"
    row.locator("button.authorize-toggle").click()
    page.wait_for_url("**/hub/authorize**")
    assert page.locator(f"#user-{pending}").locator("td").nth(1).inner_text().strip() == "Authorised"
    assert hub.login_status(pending) == 302
