"""Opening someone else's lab as a browser does, for tests without one."""

from __future__ import annotations

import html
import re

import requests


def open_lab(hub, session: requests.Session, owner: str, server: str = "") -> requests.Response:
    """GET the lab and follow the OAuth dance, confirming JupyterHub's "authorize access" page
    when it asks (it does for someone else's lab)."""
    path = f"user/{owner}/{server + '/' if server else ''}lab"
    r = session.get(hub.base + path, timeout=120)
    if r.status_code == 200 and "oauth2/authorize" in r.url and "<form" in r.text:
        fields = [
            (html.unescape(n), html.unescape(v))
            for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text)
        ]
        r = session.post(r.url, data=fields, timeout=120)
    return r


def opened(r: requests.Response, owner: str) -> bool:
    """Whether the answer is the owner's JupyterLab itself."""
    return r.status_code == 200 and f"/user/{owner}/" in r.url and "jupyter-config-data" in r.text
