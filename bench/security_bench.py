"""Login throttles and bcrypt off the event loop: other users' API p95 while 20 clients send
failed logins in parallel, as a ratio to the same p95 at idle."""

from __future__ import annotations

import statistics
import threading
import time

import requests

from .common import running_hub, timed

SAMPLES = 60
ATTACKERS = 20


def p95(values) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _latencies(hub, session, name, n):
    return [timed(hub.api, session, "GET", f"users/{name}") for _ in range(n)]


def _hammer(hub, stop: threading.Event, index: int, counts: dict) -> None:
    s = requests.Session()
    s.get(hub.hub_url + "login")
    while not stop.is_set():
        r = s.post(
            hub.hub_url + "login",
            data={"username": f"nobody{index}", "password": "wrong-password-1", "_xsrf": s.cookies.get("_xsrf")},
            allow_redirects=False,
            timeout=60,
        )
        counts[r.status_code] = counts.get(r.status_code, 0) + 1


def run():
    rows = []
    # limits as shipped per name, but every attacker is 127.0.0.1 here: the per-address limit is
    # lifted so each attempt really reaches bcrypt (the worst case for the hub)
    with running_hub(
        JUPYTERHUB_AUTH_RATE_PER_ADDRESS="10000",
        JUPYTERHUB_AUTH_RATE_PER_NAME="10000",
        JUPYTERHUB_LOGIN_MAX_FAILURES="0",
    ) as hub:
        name, session = hub.new_user("bench")
        idle = _latencies(hub, session, name, SAMPLES)
        stop, counts = threading.Event(), {}
        threads = [threading.Thread(target=_hammer, args=(hub, stop, i, counts)) for i in range(ATTACKERS)]
        for t in threads:
            t.start()
        try:
            while sum(counts.values()) < ATTACKERS:  # every attacker has been answered once: a full queue
                time.sleep(0.05)
            during = []
            while len(during) < SAMPLES or sum(counts.values()) < 4 * ATTACKERS:
                during.extend(_latencies(hub, session, name, 1))
        finally:
            stop.set()
            for t in threads:
                t.join()
        rows.append(
            (
                "other users' API p95 during 20 parallel failed logins / idle",
                p95(during) / p95(idle),
                f"GET /hub/api/users/<me>, {len(during)} samples during, {len(idle)} idle; "
                f"{sum(counts.values())} failed logins answered",
            )
        )
    return rows
