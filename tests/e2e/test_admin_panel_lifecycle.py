"""JupyterHub's own admin panel renames and deletes a user: the platform's stores (login record,
session extensions, broadcast history, activity samples) follow, as they do through the REST API.
In Chromium."""

from __future__ import annotations

import time

import pytest
from browser import login
from harness import PASSWORD, unique_name

HUB_ENV = {
    "JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL": "1",
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",
    "JUPYTERHUB_IDLE_CULLER_INTERVAL": "3600",
}


def _eventually(check, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def _edit_user(page, hub, name):
    page.goto(hub.hub_url + "admin")
    page.locator("tr", has_text=name).get_by_role("button", name="Edit User").click()


def test_admin_panel_rename_and_delete_keep_every_store_in_step(hub, page):
    admin = hub.admin_session()
    old = unique_name("panel")
    assert hub.api(admin, "POST", f"users/{old}").status_code == 201
    password = hub.api(admin, "POST", "admin/credentials", json={"usernames": [old]}).json()["credentials"][0][
        "password"
    ]
    user = hub.login(old, password)
    hub.start_server(user, old)
    assert hub.api(user, "POST", f"users/{old}/extend-session", json={"hours": 1}).status_code == 200
    sent = hub.api(admin, "POST", "notifications/broadcast", json={"message": "hi", "recipients": [old]})
    assert sent.json()["successful"] == 1, sent.text

    def samples(name):
        return hub.store_rows("activity.sqlite", "SELECT count(*) FROM samples WHERE username = ?", name)[0][0]

    assert _eventually(lambda: samples(old) >= 1)
    hub.stop_server(user, old)

    login(page, hub, hub.admin, PASSWORD)
    new = old + "r"
    _edit_user(page, hub, old)
    page.fill("[data-testid=edit-username-input]", new)  # JupyterHub's own form
    page.locator("[data-testid=edit-username-input]").blur()
    page.click("text=Apply")
    # the rename is committed first; the stores follow before the panel gets its answer
    assert _eventually(
        lambda: hub.store_rows("notifications.sqlite", "SELECT * FROM deliveries WHERE username = ?", old) == []
    )
    assert hub.api(admin, "GET", f"users/{new}").status_code == 200
    assert hub.store_rows("session.sqlite", "SELECT hours FROM session_extensions WHERE username = ?", new) == [(1,)]
    assert hub.store_rows("notifications.sqlite", "SELECT status FROM deliveries WHERE username = ?", new) == [
        ("delivered",)
    ]
    assert _eventually(lambda: samples(old) == 0 and samples(new) >= 1)
    hub.login(new, password)  # the login record moved with the user

    _edit_user(page, hub, new)
    page.click("#delete-user")  # JupyterHub's own delete
    assert _eventually(lambda: hub.api(admin, "GET", f"users/{new}").status_code == 404)
    assert _eventually(
        lambda: hub.store_rows("session.sqlite", "SELECT * FROM session_extensions WHERE username = ?", new) == []
    )
    assert _eventually(lambda: samples(new) == 0)
    with pytest.raises(AssertionError, match="login of .* failed"):
        hub.login(new, password)
