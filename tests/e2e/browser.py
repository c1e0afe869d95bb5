"""What browser tests share besides fixtures."""


def login(page, hub, name, password):
    page.goto(hub.hub_url + "login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")


def open_admin_page(page, entry: str) -> None:
    """Go to an admin page through the navigation's Admin menu (``entry``: its id, e.g. "policies")."""
    page.click("#nav-admin-toggle")
    page.click(f"#nav-{entry}")
