"""What users and admins do in the scenarios, through the hub's API only (the same on both
backends)."""

from __future__ import annotations

import json

import requests
from harness import PASSWORD, Hub, wait_for

QUEUE = "jupyterlab-notifications-extension/notifications"


def servers(hub: Hub, name: str) -> dict:
    return hub.api(hub.admin_session(), "GET", f"users/{name}").json().get("servers", {})


def start(hub: Hub, session, name: str, server: str = "") -> None:
    path = f"users/{name}/servers/{server}" if server else f"users/{name}/server"
    r = hub.api(session, "POST", path)
    assert r.status_code in (201, 202), r.text


def start_all(hub: Hub, labs: list[tuple[requests.Session, str, str]], timeout: float = 300, also=None) -> None:
    """Several servers (session, user, server) asked for side by side, then waited for until each
    was ready (the hub starts a few at a time, so the first may be culled before the last is up)."""
    for session, name, server in labs:
        start(hub, session, name, server)
    ready: set[tuple[str, str]] = set()

    def all_ready():
        for name in {n for _, n, _ in labs}:
            ready.update((name, s) for s, model in servers(hub, name).items() if model.get("ready"))
        return all((n, s) in ready for _, n, s in labs)

    wait_for(all_ready, timeout, f"servers {[(n, s) for _, n, s in labs]} ready", step=0.5, also=also)


def stop(hub: Hub, session, name: str, server: str = "", timeout: float = 180) -> None:
    path = f"users/{name}/servers/{server}" if server else f"users/{name}/server"
    r = hub.api(session, "DELETE", path)
    assert r.status_code in (202, 204), r.text
    wait_for(lambda: server not in servers(hub, name), timeout, f"server {name}/{server} stopped", step=0.5)


def lab_queue(hub: Hub, name: str, server: str, token: str) -> list[dict]:
    """Drain what one lab's notifications extension holds (its own endpoint, through the proxy)."""
    prefix = f"user/{name}/{server}/" if server else f"user/{name}/"
    r = requests.get(hub.base + prefix + QUEUE, headers={"Authorization": f"token {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["notifications"]


def direct_queue(lab_env: dict, token: str) -> list[dict]:
    """A lab's queue read on the lab's own address, untracked: neither the proxy nor the lab counts
    the reading as activity (the culler asks the lab for its own last activity)."""
    url = lab_env["JUPYTERHUB_SERVICE_URL"].rstrip("/") + "/" + QUEUE
    r = requests.get(url, params={"no_track_activity": "1"}, headers={"Authorization": f"token {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["notifications"]


# -- opening someone's lab in a browser ------------------------------------------------------------
def admin_browser(hub: Hub) -> requests.Session:
    """A new browser session of the admin (no cookie from an earlier attempt at a lab)."""
    return hub.login(hub.admin, PASSWORD)


def run_batch(hub: Hub, session, body: dict, on_event=None) -> list[dict]:
    """POST /api/batch and read its NDJSON stream to the end: the list of events."""
    r = hub.api(session, "POST", "batch", json=body, stream=True, timeout=900)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/x-ndjson")
    events = []
    for line in r.iter_lines():
        if line:
            events.append(json.loads(line))
            if on_event:
                on_event(events[-1])
    return events
