"""What browser tests share besides fixtures."""


def login(page, hub, name, password):
    page.goto(hub.hub_url + "login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")
