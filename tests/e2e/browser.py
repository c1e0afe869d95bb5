"""What browser tests share besides fixtures."""


def login(page, hub, name, password):
    page.goto(hub.hub_url + "login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")


def quiet_lab(page):
    """Answer JupyterLab's own "official Jupyter news?" toast (No), so screenshots show ours."""
    news = page.locator(".Toastify__toast", has_text="Jupyter news")
    try:
        news.locator("button", has_text="No").click(timeout=8_000)
        news.wait_for(state="detached", timeout=10_000)
    except Exception:
        pass  # not asked (answered before, or a lab without the news extension)


def open_admin_page(page, entry: str) -> None:
    """Go to an admin page through the navigation's Admin menu (``entry``: its id, e.g. "policies")."""
    page.click("#nav-admin-toggle")
    page.click(f"#nav-{entry}")
