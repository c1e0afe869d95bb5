"""One navigation on every hub page, per role, in Chromium; the version footer and its single
console line; the Settings page's hover values."""

from __future__ import annotations

from importlib import metadata
from urllib.parse import quote

from harness import ARTIFACTS, PASSWORD

from stellars_hub.features import FEATURES
from stellars_hub.features import configurables
from stellars_hub.settings import declared

SETTINGS = declared(configurables())

VERSION_LINE = (f"Stellars JupyterHub DS {metadata.version('stellars-jupyterhub-ds')} | "
                f"JupyterHub {metadata.version('jupyterhub')}")


def _expected_nav(admin: bool) -> list[str]:
    """What page.html promises: Home, Token, Admin (admins), then the features' entries by order."""
    entries = sorted((n for f in FEATURES for n in f.nav), key=lambda n: n["order"])
    return ["Home", "Token"] + (["Admin"] if admin else []) + [n["label"] for n in entries if admin or not n["admin"]]


def _login(page, hub, name, next_path="home"):
    # ?next= keeps the login from spawning a lab (JupyterHub's default target is /hub/spawn)
    page.goto(hub.hub_url + "login?next=" + quote(f"/{hub.hub_url.split('/', 3)[3]}{next_path}"))
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"**/hub/{next_path}")


def _nav_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#thenavbar ul.navbar-nav.me-auto > li > a.nav-link").all_inner_texts()]


def test_admin_navigation_is_the_same_on_every_page(hub, page):
    hub.admin_session()
    _login(page, hub, hub.admin)
    expected = _expected_nav(admin=True)
    assert {"Settings", "Authorize Users", "Change Password", "Admin"} <= set(expected)
    for path in ("home", "token", "settings", "admin"):
        page.goto(hub.hub_url + path)
        page.wait_for_selector("#thenavbar")
        assert _nav_labels(page) == expected, path
        # the right-hand side JupyterHub renders stays: theme toggle, user, logout
        assert page.locator("#dark-theme-toggle").is_visible(), path
        assert page.locator("#logout").is_visible(), path
    # the entry of the current page is marked
    page.goto(hub.hub_url + "settings")
    assert page.locator("#nav-settings").get_attribute("aria-current") == "page"
    assert page.locator("#nav-home").get_attribute("aria-current") is None
    page.click("#nav-home")
    page.wait_for_url("**/hub/home")
    # the theme toggle still works on our pages
    before = page.locator("html").get_attribute("data-bs-theme")
    page.click("#dark-theme-toggle")
    assert page.locator("html").get_attribute("data-bs-theme") != before


def test_user_navigation_has_no_admin_entries(hub, page):
    name, _ = hub.new_user("nav")
    _login(page, hub, name)
    labels = _nav_labels(page)
    assert labels == _expected_nav(admin=False)
    assert "Settings" not in labels and "Admin" not in labels and "Authorize Users" not in labels
    assert "Change Password" in labels
    assert page.locator("#dark-theme-toggle").is_visible()
    response = page.goto(hub.hub_url + "settings")
    assert response.status == 403


def test_home_footer_and_one_console_line(hub, page):
    hub.admin_session()
    _login(page, hub, hub.admin, next_path="token")
    messages = []
    page.on("console", lambda msg: messages.append(msg.text))
    page.goto(hub.hub_url + "home")
    page.wait_for_selector("#stellars-footer")
    assert page.locator("#stellars-footer").inner_text().strip() == VERSION_LINE
    page.wait_for_load_state("load")
    assert messages.count(VERSION_LINE) == 1, messages
    page.screenshot(path=str(ARTIFACTS / "admin-home-footer.png"), full_page=True)


def test_settings_page_cells_carry_the_full_value_for_hover(hub, page):
    hub.admin_session()
    _login(page, hub, hub.admin, next_path="settings")
    cells = page.eval_on_selector_all(
        "td.setting-value", "tds => tds.map(td => [td.title, td.querySelector('code').textContent])")
    assert len(cells) == len(SETTINGS)
    for full, shown in cells:
        assert full == shown or (shown.endswith("\u2026") and full.startswith(shown[:-1])), (full, shown)
    assert page.locator("h2", has_text="GPU").is_visible()
    page.screenshot(path=str(ARTIFACTS / "admin-settings.png"), full_page=True)
