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
    r = requests.post(hub.hub_url + "login", data={"username": hub.admin, "password": PASSWORD, "_xsrf": xsrf},
                      cookies={"_xsrf": xsrf}, allow_redirects=False)
    assert r.status_code == 302
    login = _set_cookies(r)
    assert login and all("secure" in c.lower() for c in login), login


def test_http_scheme_leaves_cookies_usable_over_plain_http(hub):
    r = requests.get(hub.hub_url + "login")
    assert all("secure" not in c.lower() for c in _set_cookies(r))
