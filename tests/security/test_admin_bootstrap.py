"""The configured admin: its first login never comes from signup, and it stays the admin."""

from __future__ import annotations

import requests
from harness import unique_name


def _login(hub, name, password):
    s = requests.Session()
    s.get(hub.hub_url + "login")
    r = s.post(
        hub.hub_url + "login",
        data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf")},
        allow_redirects=False,
    )
    return s, r


def _signup(hub, name, password):
    s = requests.Session()
    s.get(hub.hub_url + "signup")
    return s.post(
        hub.hub_url + "signup",
        data={
            "username": name,
            "signup_password": password,
            "signup_password_confirmation": password,
            "_xsrf": s.cookies.get("_xsrf"),
        },
    )


def test_generated_password_with_signup_on_and_admin_name_refused_to_signup(make_hub):
    hub = make_hub(JUPYTERHUB_ADMIN_PASSWORD="", JUPYTERHUB_SIGNUP_ENABLED="1")
    secret = hub.data_dir / "initial-admin-password"
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    text = secret.read_text()
    password = text.strip()
    assert text == password + "\n" and "\t" not in text and hub.admin not in text  # only what a person pastes
    log = hub.log_text()
    assert password not in log and str(secret) in log  # says where, never what

    # a stranger racing for the admin name gets a clear refusal and no login
    r = _signup(hub, hub.admin, "Stranger-pw-99")
    assert r.status_code == 400 and "belongs to the administrator of this hub" in r.text
    assert _login(hub, hub.admin, "Stranger-pw-99")[1].status_code == 200
    assert _login(hub, hub.admin, password)[1].status_code == 302
    assert password not in hub.log_text()


def test_admin_password_setting_is_the_first_login_and_no_file_is_written(make_hub):
    hub = make_hub(JUPYTERHUB_ADMIN_PASSWORD="Operator-chose-77")
    assert not (hub.data_dir / "initial-admin-password").exists()
    assert _login(hub, hub.admin, "Operator-chose-77")[1].status_code == 302
    assert "Operator-chose-77" not in hub.log_text()
    # the settings API masks it
    rows = {r["name"]: r for r in hub.api(hub.admin_session(), "GET", "settings").json()["settings"]}
    assert rows["JUPYTERHUB_ADMIN_PASSWORD"]["value"] == "********"


def test_configured_admin_cannot_be_renamed_deleted_or_demoted(hub):
    admin = hub.admin_session()
    other, _ = hub.new_user("coadmin")
    assert hub.api(admin, "PATCH", f"users/{other}", json={"admin": True}).status_code == 200
    coadmin = hub.token_for(other)  # another admin: still may not remove the configured one

    for who in (admin, None):
        token = None if who is admin else coadmin
        r = hub.api(who, "PATCH", f"users/{hub.admin}", token=token, json={"name": unique_name("away")})
        assert r.status_code == 409 and "configured administrator" in r.json()["message"], r.text
        r = hub.api(who, "PATCH", f"users/{hub.admin}", token=token, json={"admin": False})
        assert r.status_code == 409 and "demoted" in r.json()["message"]
        r = hub.api(who, "DELETE", f"users/{hub.admin}", token=token)
        assert r.status_code == 409 and "deleted" in r.json()["message"]
        r = hub.api(who, "DELETE", f"admin/users/{hub.admin}", token=token, json={"remove_volumes": True})
        assert r.status_code == 409 and "deleted" in r.json()["message"]

    model = hub.api(admin, "GET", f"users/{hub.admin}").json()
    assert model["name"] == hub.admin and model["admin"] is True
    # other changes to the admin still work, and callers without the right get JupyterHub's 403
    assert hub.api(admin, "PATCH", f"users/{hub.admin}", json={"admin": True}).status_code == 200
    _, user = hub.new_user("plain")
    assert hub.api(user, "DELETE", f"users/{hub.admin}").status_code == 403
    assert requests.delete(hub.hub_url + f"api/users/{hub.admin}").status_code in (401, 403)
    # the co-admin is an ordinary user: deletable
    assert hub.api(admin, "DELETE", f"users/{other}").status_code == 204
