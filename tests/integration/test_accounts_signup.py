"""Signup, approval, lockout, password rules, name rules and Discard against a real hub."""

from __future__ import annotations

import re
import time

import requests
from harness import PASSWORD, unique_name


def _login(hub, name, password):
    s = requests.Session()
    s.get(hub.hub_url + "login")
    return s, s.post(
        hub.hub_url + "login",
        data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf")},
        allow_redirects=False,
    )


def _signup(hub, name, password=PASSWORD, confirmation=None):
    s = requests.Session()
    s.get(hub.hub_url + "signup")
    return s.post(
        hub.hub_url + "signup",
        data={
            "username": name,
            "signup_password": password,
            "signup_password_confirmation": password if confirmation is None else confirmation,
            "_xsrf": s.cookies.get("_xsrf"),
        },
    )


def test_signup_waits_for_approval_then_logs_in(hub):
    hub.admin_session()
    name = unique_name("wait")
    r = _signup(hub, name)
    assert r.status_code == 200 and "sent to the admin" in r.text
    _, r = _login(hub, name, PASSWORD)
    assert r.status_code == 200 and "has not been authorized" in r.text

    page = hub.admin_session().get(hub.hub_url + "authorize")
    assert name in page.text
    hub.authorize(name)
    _, r = _login(hub, name, PASSWORD)
    assert r.status_code == 302


def test_admin_name_is_never_open_to_signup(make_hub):
    hub = make_hub(JUPYTERHUB_ADMIN="boss", JUPYTERHUB_ADMIN_PASSWORD="Boss-first-pw-31")
    r = _signup(hub, "boss", "Stranger-pw-99")
    assert r.status_code == 400 and "belongs to the administrator of this hub" in r.text
    assert _login(hub, "boss", "Stranger-pw-99")[1].status_code == 200  # the stranger's password does nothing
    assert _login(hub, "boss", "Boss-first-pw-31")[1].status_code == 302


def test_weak_passwords_and_unusable_names_are_refused_with_the_reason(hub):
    hub.admin_session()
    r = _signup(hub, unique_name("short"), "abc12")
    assert r.status_code == 400 and "at least 8 characters" in r.text
    r = _signup(hub, unique_name("common"), "password1")
    assert r.status_code == 400 and "most common passwords" in r.text
    r = _signup(hub, "two words")
    assert r.status_code == 400 and "cannot contain spaces" in r.text
    r = _signup(hub, "n" * 60)
    assert r.status_code == 400 and "too long" in r.text
    # nothing was created for any of them
    page = hub.admin_session().get(hub.hub_url + "authorize").text
    assert "two words" not in page and "n" * 60 not in page


def test_admin_creation_refuses_unusable_names_with_the_reason(hub):
    s = hub.admin_session()
    ok = unique_name("okay")
    r = hub.api(s, "POST", "users", json={"usernames": [ok, "bad name", "x" * 60]})
    assert r.status_code == 400 and "cannot contain spaces" in r.json()["message"]
    assert hub.api(s, "GET", f"users/{ok}").status_code == 404  # the batch is refused as a whole
    r = hub.api(s, "POST", "users", json={"usernames": ["é" * 20]})
    assert r.status_code == 400 and "too long" in r.json()["message"]
    # upper case is folded by JupyterHub: creating 'Ann' when 'ann' exists is 'already exists'
    lower = unique_name("case")
    assert hub.api(s, "POST", "users", json={"usernames": [lower]}).status_code == 201
    r = hub.api(s, "POST", "users", json={"usernames": [lower.upper()]})
    assert r.status_code == 409
    # JupyterHub's single-user creation does not lower-case: such a user could never log in
    r = hub.api(s, "POST", f"users/{unique_name('Mixed')}")
    assert r.status_code == 400
    r = hub.api(s, "POST", "users", json={"usernames": [unique_name("Mixed")]})
    assert r.status_code == 201  # the batch form lower-cases first
    # a rename onto an unusable name is refused the same way
    r = hub.api(s, "PATCH", f"users/{lower}", json={"name": "has space"})
    assert r.status_code == 400 and "cannot contain spaces" in r.json()["message"]


def test_lockout_after_repeated_failures_then_released(make_hub):
    hub = make_hub(JUPYTERHUB_LOGIN_MAX_FAILURES="3", JUPYTERHUB_LOGIN_LOCKOUT_SECONDS="3")
    hub.admin_session()
    name, _ = hub.new_user("lock")
    for attempt in range(3):
        _, r = _login(hub, name, f"wrong-password-{attempt}")
        assert r.status_code == 200
    assert "Too many failed logins" in r.text
    _, r = _login(hub, name, PASSWORD)  # even the right password waits
    assert r.status_code == 200 and "try again in" in r.text
    time.sleep(4)
    _, r = _login(hub, name, PASSWORD)
    assert r.status_code == 302


def test_signup_off_removes_page_link_and_post_and_bootstraps_the_admin(make_hub):
    hub = make_hub(JUPYTERHUB_SIGNUP_ENABLED="0", JUPYTERHUB_ADMIN_PASSWORD="")
    assert requests.get(hub.hub_url + "signup").status_code == 404
    s = requests.Session()
    login_page = s.get(hub.hub_url + "login").text
    assert "signup" not in login_page.lower().replace("sign up", "") and "Sign up" not in login_page
    r = s.post(
        hub.hub_url + "signup",
        data={
            "username": "someone",
            "signup_password": PASSWORD,
            "signup_password_confirmation": PASSWORD,
            "_xsrf": s.cookies.get("_xsrf"),
        },
    )
    assert r.status_code == 404
    # nobody can sign up, so the first admin's password was generated into the data directory
    secret = hub.data_dir / "initial-admin-password"
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    password = secret.read_text().strip()
    assert password not in hub.log_text()
    admin, r = _login(hub, hub.admin, password)
    assert r.status_code == 302
    # ...and admins create users, who can log in at once
    new = unique_name("nosignup")
    assert hub.api(admin, "POST", "users", json={"usernames": [new]}).status_code == 201
    creds = hub.api(admin, "POST", "admin/credentials", json={"usernames": [new]}).json()["credentials"]
    _, r = _login(hub, new, creds[0]["password"])
    assert r.status_code == 302


def test_discard_only_for_pending_signups_without_hub_account(hub):
    s = hub.admin_session()
    pending = unique_name("pend")
    _signup(hub, pending)
    member, _ = hub.new_user("member")  # signed up, authorised, logged in: a hub user
    unauthorised = unique_name("unauth")
    _signup(hub, unauthorised)
    hub.authorize(unauthorised)
    _login(hub, unauthorised, PASSWORD)
    hub.authorize(unauthorised)  # un-authorised again: a hub user whose logins are blocked

    page = s.get(hub.hub_url + "authorize").text
    rows = {m.group(1): m.group(2) for m in re.finditer(r'<tr id="user-([^"]+)"(.*?)</tr>', page, re.S)}
    assert "discard" in rows[pending].lower()
    assert "discard" not in rows[member].lower()
    assert "discard" not in rows[unauthorised].lower()

    xsrf = {"_xsrf": s.cookies.get("_xsrf", path=hub._cookie_path())}
    for name in (member, unauthorised):
        r = s.post(hub.hub_url + f"discard/{name}", data=xsrf)
        assert r.status_code == 409 and "hub user, not a pending signup" in r.text
        assert s.get(hub.hub_url + f"discard/{name}").status_code == 405
    _, r = _login(hub, member, PASSWORD)
    assert r.status_code == 302  # the login record survived

    r = s.post(hub.hub_url + f"discard/{pending}", data=xsrf)
    assert r.status_code == 200 and r.url.endswith("/authorize")
    assert f'id="user-{pending}"' not in r.text


def test_change_own_password_and_admin_reset(hub):
    name, session = hub.new_user("pw")
    page = session.get(hub.hub_url + "change-password")
    r = session.post(
        hub.hub_url + "change-password",
        data={
            "old_password": PASSWORD,
            "new_password": "Brand-new-pw-77",
            "new_password_confirmation": "Brand-new-pw-77",
            "_xsrf": session.cookies.get("_xsrf", path=hub._cookie_path()),
        },
    )
    assert page.status_code == 200 and "changed successfully" in r.text
    assert _login(hub, name, "Brand-new-pw-77")[1].status_code == 302

    s = hub.admin_session()
    r = s.post(
        hub.hub_url + f"change-password/{name}",
        data={
            "new_password": "Admin-set-pw-88",
            "new_password_confirmation": "Admin-set-pw-88",
            "_xsrf": s.cookies.get("_xsrf", path=hub._cookie_path()),
        },
    )
    assert "changed successfully" in r.text
    assert _login(hub, name, "Brand-new-pw-77")[1].status_code == 200
    assert _login(hub, name, "Admin-set-pw-88")[1].status_code == 302
