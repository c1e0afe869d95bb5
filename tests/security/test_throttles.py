"""Throttles on password work: per address and per name (429 + Retry-After), a lockout that
neither re-locks at once after it lifts nor tells known names from unknown ones, pending
users' passwords checked only inside the lockout, Change Password without a login record."""

from __future__ import annotations

import sqlite3
import time

import requests

from harness import PASSWORD, unique_name


def _login(hub, name, password, headers=None):
    s = requests.Session()
    s.get(hub.hub_url + "login")
    return s.post(hub.hub_url + "login", data={"username": name, "password": password,
                                               "_xsrf": s.cookies.get("_xsrf")},
                  headers=headers or {}, allow_redirects=False)


def _error(r) -> str:
    """The message on the login page."""
    text = r.text
    start = text.find('class="login_error"')
    return text[start:text.find("</p>", start)].strip() if start >= 0 else ""


def test_per_address_limit_answers_429_with_retry_after_and_ignores_forged_forwarding(make_hub):
    hub = make_hub(JUPYTERHUB_AUTH_RATE_PER_ADDRESS="6", JUPYTERHUB_AUTH_RATE_PER_NAME="100")
    hub.admin_session()  # one attempt
    for i in range(5):
        assert _login(hub, unique_name(f"n{i}"), "wrong-password-1").status_code == 200
    r = _login(hub, unique_name("late"), "wrong-password-1")
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    assert "Too many attempts" in r.text
    # a client cannot pose as another address: the hub's proxy appends the real one
    r = _login(hub, unique_name("forged"), "wrong-password-1", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 429
    s = requests.Session()
    s.get(hub.hub_url + "signup")
    r = s.post(hub.hub_url + "signup", data={"username": unique_name("su"), "signup_password": PASSWORD,
                                             "signup_password_confirmation": PASSWORD, "_xsrf": s.cookies.get("_xsrf")})
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert requests.get(hub.hub_url + "api/").status_code == 200  # everything else still answers


def test_per_name_limit_leaves_other_names_alone(make_hub):
    hub = make_hub(JUPYTERHUB_AUTH_RATE_PER_NAME="3", JUPYTERHUB_LOGIN_MAX_FAILURES="0")
    name, _ = hub.new_user("target")  # its signup and login count: one attempt left this minute
    assert _login(hub, name, "wrong-password-1").status_code == 200
    r = _login(hub, name, PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    other, _ = hub.new_user("other")
    assert _login(hub, other, PASSWORD).status_code == 302


def test_lockout_same_for_unknown_names_and_not_relocked_by_first_failure_after_it_lifts(make_hub):
    hub = make_hub(JUPYTERHUB_LOGIN_MAX_FAILURES="3", JUPYTERHUB_LOGIN_LOCKOUT_SECONDS="3",
                   JUPYTERHUB_AUTH_RATE_PER_NAME="1000")
    known, _ = hub.new_user("known")
    unknown = unique_name("ghost")
    answers = {}
    for name in (known, unknown):
        for attempt in range(3):
            r = _login(hub, name, f"wrong-password-{attempt}")
        answers[name] = (r.status_code, _error(r).replace(name, "NAME"))
    assert answers[known] == answers[unknown]
    assert "Too many failed logins" in answers[known][1]
    assert "try again in" in _error(_login(hub, known, PASSWORD))  # the right password waits too

    time.sleep(4)
    r = _login(hub, known, "wrong-password-again")  # first failure after the lockout lifted
    assert r.status_code == 200 and "Invalid username or password" in r.text and "Too many" not in r.text
    assert _login(hub, known, PASSWORD).status_code == 302


def test_pending_user_password_is_checked_only_inside_the_lockout(make_hub):
    hub = make_hub(JUPYTERHUB_LOGIN_MAX_FAILURES="2", JUPYTERHUB_LOGIN_LOCKOUT_SECONDS="600",
                   JUPYTERHUB_AUTH_RATE_PER_NAME="1000")
    hub.admin_session()
    pending = unique_name("pend")
    assert hub.signup(pending).status_code == 200
    assert "has not been authorized" in _login(hub, pending, PASSWORD).text
    for attempt in range(2):
        _login(hub, pending, f"wrong-password-{attempt}")
    r = _login(hub, pending, PASSWORD)  # locked: the right password reveals nothing
    assert "has not been authorized" not in r.text and "Too many failed logins" in r.text


def test_change_password_without_login_record_is_a_clear_refusal(hub):
    name, session = hub.new_user("norecord")
    db = sqlite3.connect(hub.data_dir / "jupyterhub.sqlite", timeout=30)
    with db:
        db.execute("DELETE FROM users_info WHERE username = ?", (name,))
    db.close()
    xsrf = session.cookies.get("_xsrf", path=hub._cookie_path())
    r = session.post(hub.hub_url + "change-password", data={
        "old_password": PASSWORD, "new_password": "Brand-new-pw-77", "new_password_confirmation": "Brand-new-pw-77",
        "_xsrf": xsrf})
    assert r.status_code == 409 and "has no password login" in r.text
    # and a wrong current password is a 400 with the reason, for a user who has one
    other, s2 = hub.new_user("haspw")
    r = s2.post(hub.hub_url + "change-password", data={
        "old_password": "not-my-password", "new_password": "Brand-new-pw-77",
        "new_password_confirmation": "Brand-new-pw-77", "_xsrf": s2.cookies.get("_xsrf", path=hub._cookie_path())})
    assert r.status_code == 400 and "incorrect" in r.text
    assert _login(hub, other, PASSWORD).status_code == 302
