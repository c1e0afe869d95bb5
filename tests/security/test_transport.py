"""The hub decides Secure cookies from its configured public scheme, not from forwarded headers
(the compose stack's headers and redirects: tests/integration/test_deploy_compose.py)."""

from __future__ import annotations

import requests
from harness import PASSWORD


def _set_cookies(r) -> list[str]:
    return r.raw.headers.getlist("Set-Cookie")


def test_https_scheme_marks_every_cookie_secure_even_on_a_plain_request(make_hub):
    hub = make_hub(JUPYTERHUB_PUBLIC_SCHEME="https")
    s = requests.Session()
    r = s.get(hub.hub_url + "login", headers={"X-Forwarded-Proto": "http"})
    cookies = _set_cookies(r)
    assert cookies and all("secure" in c.lower() for c in cookies), cookies
    xsrf = next(c for c in cookies if c.startswith("_xsrf=")).split(";")[0].split("=", 1)[1]
    r = requests.post(
        hub.hub_url + "login",
        data={"username": hub.admin, "password": PASSWORD, "_xsrf": xsrf},
        cookies={"_xsrf": xsrf},
        allow_redirects=False,
    )
    assert r.status_code == 302
    login = _set_cookies(r)
    assert login and all("secure" in c.lower() for c in login), login


def test_http_scheme_leaves_cookies_usable_over_plain_http(hub):
    r = requests.get(hub.hub_url + "login")
    assert all("secure" not in c.lower() for c in _set_cookies(r))


def test_with_labs_on_subdomains_the_hubs_login_cookies_are_host_only(make_inprocess_hub):
    """Per-user subdomains over HTTPS (the compose default): the hub's login cookie carries the
    __Host- prefix, so a browser keeps it only as the hub's own host set it (Secure, Path=/, no
    Domain) and a lab on a subdomain cannot toss one of that name for the hub's domain."""
    hub = make_inprocess_hub(JUPYTERHUB_PUBLIC_SCHEME="https", JUPYTERHUB_SUBDOMAIN_HOST="https://hub.test")
    s = requests.Session()
    r = s.get(hub.hub_url + "login")
    xsrf = next(c for c in _set_cookies(r) if c.startswith("_xsrf=")).split(";")[0].split("=", 1)[1]
    r = requests.post(
        hub.hub_url + "login",
        data={"username": hub.admin, "password": PASSWORD, "_xsrf": xsrf},
        cookies={"_xsrf": xsrf},
        allow_redirects=False,
    )
    assert r.status_code == 302
    login = [c for c in _set_cookies(r) if "hub-login" in c.split("=", 1)[0]]
    assert len(login) == 1 and login[0].startswith("__Host-jupyterhub-hub-login="), _set_cookies(r)
    attributes = [a.strip().lower() for a in login[0].split(";")[1:]]
    assert "secure" in attributes and "path=/" in attributes and not [a for a in attributes if a.startswith("domain")]


def test_on_one_shared_origin_the_cookies_stay_on_the_hubs_path(make_inprocess_hub):
    hub = make_inprocess_hub(JUPYTERHUB_PUBLIC_SCHEME="https", JUPYTERHUB_SUBDOMAIN_HOST="off")
    s = requests.Session()
    r = s.get(hub.hub_url + "login")
    xsrf = next(c for c in _set_cookies(r) if c.startswith("_xsrf=")).split(";")[0].split("=", 1)[1]
    r = requests.post(
        hub.hub_url + "login",
        data={"username": hub.admin, "password": PASSWORD, "_xsrf": xsrf},
        cookies={"_xsrf": xsrf},
        allow_redirects=False,
    )
    login = [c for c in _set_cookies(r) if "hub-login" in c.split("=", 1)[0]]
    assert len(login) == 1 and login[0].startswith("jupyterhub-hub-login=") and "Path=/jupyterhub/hub/" in login[0]
