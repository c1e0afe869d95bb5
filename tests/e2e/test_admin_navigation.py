"""One navigation on every hub page, per role, in Chromium; the version footer and its single
console line; the Settings page's hover values."""

from __future__ import annotations

from importlib import metadata
from urllib.parse import quote

from harness import ARTIFACTS, PASSWORD, REPO

from stellars_hub.features import FEATURES, configurables
from stellars_hub.settings import declared

SETTINGS = declared(configurables())
SCREENSHOTS = REPO / "docs" / "screenshots"

VERSION_LINE = (
    f"Stellars JupyterHub DS {metadata.version('stellars-jupyterhub-ds')} | JupyterHub {metadata.version('jupyterhub')}"
)


def _entries():
    return sorted((n for f in FEATURES for n in f.nav), key=lambda n: n["order"])


def _expected_nav(admin: bool) -> list[str]:
    """What page.html promises on the bar: Home, Token, the Admin menu (admins), then the
    features' entries for everyone, by order."""
    return ["Home", "Token"] + (["Admin"] if admin else []) + [n["label"] for n in _entries() if not n["admin"]]


def _expected_admin_menu() -> list[str]:
    """Every admin page in the one menu: JupyterHub's admin panel, then the features' admin pages."""
    return ["Admin panel"] + [n["label"] for n in _entries() if n["admin"]]


def _login(page, hub, name, next_path="home"):
    # ?next= keeps the login from spawning a lab (JupyterHub's default target is /hub/spawn)
    page.goto(hub.hub_url + "login?next=" + quote(f"/{hub.hub_url.split('/', 3)[3]}{next_path}"))
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"**/hub/{next_path}")


def _nav_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#thenavbar ul.navbar-nav.me-auto > li > a.nav-link").all_inner_texts()]


def _menu_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#nav-admin-menu .dropdown-item").all_text_contents()]


def _bar_on_one_line(page) -> bool:
    """Whether every entry of the bar (both sides) shares one line: each starts above the point
    where the highest one ends (entries that wrap start below it)."""
    boxes = page.eval_on_selector_all(
        "#thenavbar .navbar-nav > li",
        "items => items.map(li => [li.getBoundingClientRect().top, li.getBoundingClientRect().bottom])",
    )
    return max(top for top, _ in boxes) < min(bottom for _, bottom in boxes)


def test_admin_navigation_is_the_same_on_every_page(hub, page):
    hub.admin_session()
    _login(page, hub, hub.admin)
    expected = _expected_nav(admin=True)
    assert {"Admin", "Change Password"} <= set(expected) and len(expected) <= 5
    assert {"Settings", "Authorize Users", "Policies", "Events"} <= set(_expected_admin_menu())
    for path in ("home", "token", "settings", "admin"):
        page.goto(hub.hub_url + path)
        page.wait_for_selector("#thenavbar")
        assert _nav_labels(page) == expected, path
        assert _menu_labels(page) == _expected_admin_menu(), path
        # one line at 1280 px, right-hand side included (it wrapped onto three with every page on the bar)
        assert page.viewport_size["width"] == 1280 and _bar_on_one_line(page), path
        # the right-hand side JupyterHub renders stays: theme toggle, user, logout
        assert page.locator("#dark-theme-toggle").is_visible(), path
        assert page.locator("#logout").is_visible(), path
    # the entry of the current page is marked, and the menu that holds it
    page.goto(hub.hub_url + "settings")
    assert page.locator("#nav-settings").get_attribute("aria-current") == "page"
    assert "active" in page.locator("#nav-admin-toggle").get_attribute("class")
    assert page.locator("#nav-home").get_attribute("aria-current") is None
    # every admin page is reached through the menu
    assert not page.locator("#nav-policies").is_visible()
    page.click("#nav-admin-toggle")
    page.locator("#nav-policies").wait_for(state="visible")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-menu.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 520})
    page.click("#nav-policies")
    page.wait_for_url("**/hub/policies")
    page.click("#nav-home")
    page.wait_for_url("**/hub/home")
    assert "active" not in page.locator("#nav-admin-toggle").get_attribute("class")
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
    assert page.locator("#nav-admin-menu").count() == 0
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
        "td.setting-value", "tds => tds.map(td => [td.title, td.querySelector('code').textContent])"
    )
    assert len(cells) == len(SETTINGS)
    for full, shown in cells:
        assert full == shown or (shown.endswith("\u2026") and full.startswith(shown[:-1])), (full, shown)
    assert page.locator("h2", has_text="GPU").is_visible()
    page.screenshot(path=str(ARTIFACTS / "admin-settings.png"), full_page=True)
