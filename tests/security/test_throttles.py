"""Throttles on password work that no client can talk its way around: per address and per name
(429 + Retry-After), the address believed only as far as the hub's own proxy (and configured
proxies) wrote it, so a lab reaching the hub's port directly cannot pose as many addresses; a
lockout keyed by client and name, so failures for a name elsewhere never lock its owner out of
their own browser or address, while guesses spread over many addresses still stop; a lockout
that neither re-locks at once after it lifts nor tells known names from unknown ones; pending
users' passwords checked only inside the lockout; Change Password without a login record.

Clients come from different loopback addresses (127.0.0.x, bound as the connection's source),
through the hub's own proxy as browsers do, or straight to the hub's port as a lab can. These
run on in-process hubs (the throttles need no engine), except the one that reads the hub's
database file."""

from __future__ import annotations

import sqlite3
import time

import requests
from harness import PASSWORD, unique_name
from requests.adapters import HTTPAdapter


class _FromAddress(HTTPAdapter):
    """Connections from one loopback address (any 127.0.0.x reaches the hub on Linux)."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def _session(source: str | None = None) -> requests.Session:
    s = requests.Session()
    if source:
        s.mount("http://", _FromAddress(source))
    return s


def _login(hub, name, password, headers=None, source=None, session=None, url=None):
    s = session or _session(source)
    url = url or hub.hub_url + "login"
    s.get(url, headers=headers or {})  # the same claims as the POST: JupyterHub ties an anonymous XSRF token to them
    return s.post(
        url,
        data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf")},
        headers=headers or {},
        allow_redirects=False,
    )


def _error(r) -> str:
    """The message on the login page."""
    text = r.text
    start = text.find('class="login_error"')
    return text[start : text.find("</p>", start)].strip() if start >= 0 else ""


def test_per_address_limit_answers_429_with_retry_after_and_ignores_forged_forwarding(make_inprocess_hub):
    hub = make_inprocess_hub(JUPYTERHUB_AUTH_RATE_PER_ADDRESS="6", JUPYTERHUB_AUTH_RATE_PER_NAME="100")
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
    r = s.post(
        hub.hub_url + "signup",
        data={
            "username": unique_name("su"),
            "signup_password": PASSWORD,
            "signup_password_confirmation": PASSWORD,
            "_xsrf": s.cookies.get("_xsrf"),
        },
    )
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert requests.get(hub.hub_url + "api/").status_code == 200  # everything else still answers


def test_per_name_limit_leaves_other_names_alone(make_inprocess_hub):
    hub = make_inprocess_hub(JUPYTERHUB_AUTH_RATE_PER_NAME="3", JUPYTERHUB_LOGIN_MAX_FAILURES="0")
    name, _ = hub.new_user("target")  # its signup and first login count: one attempt left this minute
    assert _login(hub, name, "wrong-password-1", source="127.0.0.21").status_code == 200
    r = _login(hub, name, PASSWORD, source="127.0.0.23")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    other, _ = hub.new_user("other")
    assert _login(hub, other, PASSWORD, source="127.0.0.24").status_code == 302
    # the owner's own place (the address it logged in from) never waits for the name's limit
    assert _login(hub, name, PASSWORD).status_code == 302


def test_a_caller_on_the_hubs_port_is_known_by_its_own_address_whatever_it_claims(make_inprocess_hub):
    """A lab reaches the hub's port directly: every guess claims a new X-Forwarded-For address
    (and a new name), and still meets the per-address limit."""
    hub = make_inprocess_hub(JUPYTERHUB_AUTH_RATE_PER_ADDRESS="6", JUPYTERHUB_AUTH_RATE_PER_NAME="100")
    direct = hub.hub_url.replace(f":{hub.port}/", f":{hub.hub_port}/") + "login"
    lab = _session("127.0.0.31")
    statuses = [
        _login(
            hub,
            unique_name(f"s{i}"),
            "wrong-password-1",
            session=lab,
            url=direct,
            headers={"X-Forwarded-For": f"198.51.100.{i}", "X-Real-Ip": f"198.51.100.{i}"},
        ).status_code
        for i in range(8)
    ]
    assert statuses[:6] == [200] * 6 and statuses[6:] == [429, 429], statuses
    # the same lab through the hub's proxy is the same address: the proxy appends it
    r = _login(
        hub, unique_name("via"), "wrong-password-1", source="127.0.0.31", headers={"X-Forwarded-For": "198.51.100.99"}
    )
    assert r.status_code == 429
    assert _login(hub, unique_name("else"), "wrong-password-1", source="127.0.0.32").status_code == 200  # others go on


def test_failures_for_a_name_elsewhere_never_lock_its_owner_out_of_their_own_browser_or_address(make_inprocess_hub):
    """Five wrong passwords for the admin from anywhere, again and again: the name is locked
    for every place it never logged in from (a distributed guesser stops), not for the admin's
    own browser or address."""
    hub = make_inprocess_hub(
        JUPYTERHUB_LOGIN_MAX_FAILURES="3", JUPYTERHUB_LOGIN_LOCKOUT_SECONDS="600", JUPYTERHUB_AUTH_RATE_PER_NAME="1000"
    )
    admin, password = hub.admin, hub.admin_password()
    browser = _session("127.0.0.41")  # the admin's browser: logs in once, keeps its cookies
    assert _login(hub, admin, password, session=browser).status_code == 302
    for i in range(6):  # attackers at six addresses, more failures than allowed
        assert _login(hub, admin, f"wrong-password-{i}", source=f"127.0.0.{50 + i}").status_code == 200
    locked = _login(hub, admin, password, source="127.0.0.60")  # a new place, even with the right password
    assert locked.status_code == 200 and "Too many failed logins" in locked.text
    assert _login(hub, admin, password, session=browser).status_code == 302  # the admin's browser
    assert _login(hub, admin, password, source="127.0.0.41").status_code == 302  # the admin's address, no cookie
    moved = _session("127.0.0.42")  # the admin's browser at a new address (its device cookie)
    moved.cookies.update(browser.cookies)
    assert _login(hub, admin, password, session=moved).status_code == 302
    # the admin's own failures still lock the admin's own place
    for i in range(3):
        _login(hub, admin, f"typo-{i}", source="127.0.0.41")
    assert "Too many failed logins" in _login(hub, admin, password, source="127.0.0.41").text


def test_lockout_same_for_unknown_names_and_not_relocked_by_first_failure_after_it_lifts(make_inprocess_hub):
    hub = make_inprocess_hub(
        JUPYTERHUB_LOGIN_MAX_FAILURES="3", JUPYTERHUB_LOGIN_LOCKOUT_SECONDS="3", JUPYTERHUB_AUTH_RATE_PER_NAME="1000"
    )
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


def test_pending_user_password_is_checked_only_inside_the_lockout(make_inprocess_hub):
    hub = make_inprocess_hub(
        JUPYTERHUB_LOGIN_MAX_FAILURES="2", JUPYTERHUB_LOGIN_LOCKOUT_SECONDS="600", JUPYTERHUB_AUTH_RATE_PER_NAME="1000"
    )
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
    r = session.post(
        hub.hub_url + "change-password",
        data={
            "old_password": PASSWORD,
            "new_password": "Brand-new-pw-77",
            "new_password_confirmation": "Brand-new-pw-77",
            "_xsrf": xsrf,
        },
    )
    assert r.status_code == 409 and "has no password login" in r.text
    # and a wrong current password is a 400 with the reason, for a user who has one
    other, s2 = hub.new_user("haspw")
    r = s2.post(
        hub.hub_url + "change-password",
        data={
            "old_password": "not-my-password",
            "new_password": "Brand-new-pw-77",
            "new_password_confirmation": "Brand-new-pw-77",
            "_xsrf": s2.cookies.get("_xsrf", path=hub._cookie_path()),
        },
    )
    assert r.status_code == 400 and "incorrect" in r.text
    assert _login(hub, other, PASSWORD).status_code == 302
