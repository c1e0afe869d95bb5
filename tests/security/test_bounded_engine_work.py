"""No engine work per request without a bound: a plain user repeating any platform request (every
route of the permission matrix, with the matrix's harmless request, on their own running lab)
costs the engine no more than one shared read plus the platform's per-minute limits, however
many times they send it; refused calls get 429 with Retry-After, never a 5xx.

Counted on the in-process hub, whose fake engine counts every call it receives (the latency the
same calls cost other users on the real engine is measured in test_bounded_cost.py)."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from accessmatrix import ROWS

from stellars_hub import naming

PER_MINUTE = 60  # the largest per-caller limit of the platform's engine reads (manage-volumes)
REPEATS = 2 * PER_MINUTE + 10  # a burst that an unbounded route answers with one engine call each
SHARED = 2  # engine calls one shared read may cost (the read, and one after it aged)
HUB_ENV = {"JUPYTERHUB_BACKUP_INTERVAL": "86400"}  # backups on: a user's backups page lists the target


@pytest.fixture(scope="module")
def plain(inprocess_hub):
    hub = inprocess_hub
    name, session = hub.new_user("eng")
    hub.start_server(session, name)
    for volume in naming.user_volume_names(name).values():
        hub.runtime.create_volume(volume, size=1000)
    return hub, name, session


def _send(hub, session, method, url, body):
    headers = {"X-XSRFToken": session.cookies.get("_xsrf", path=hub._cookie_path())}
    kwargs = {"json": body} if body is not None else {}
    return session.request(method, url, headers=headers, allow_redirects=False, timeout=120, **kwargs)


@pytest.mark.parametrize("key", sorted(ROWS), ids=lambda k: f"{k[1]} {k[0]}")
def test_repeated_requests_of_a_plain_user_cost_the_engine_a_bounded_amount(plain, key):
    hub, name, session = plain
    pattern, method = key
    row = ROWS[key]
    path = re.sub(r"\([^)]*\)", row.path or name, pattern, count=1)
    url = hub.hub_url.rstrip("/") + re.sub(r"\([^)]*\)", "noserver", path)
    body = None if row.body is None else json.loads(json.dumps(row.body).replace("{t}", name))
    before = dict(hub.runtime.calls)
    first = _send(hub, session, method, url, body)
    answers = [first]
    if sum(hub.runtime.calls.values()) > sum(before.values()):  # this request reaches the engine: repeat it
        with ThreadPoolExecutor(10) as pool:
            answers += pool.map(lambda _: _send(hub, session, method, url, body), range(REPEATS - 1))
    engine = {k: v - before.get(k, 0) for k, v in hub.runtime.calls.items() if v > before.get(k, 0)}
    assert all(r.status_code < 500 for r in answers), [r.text for r in answers if r.status_code >= 500][:3]
    limited = [r for r in answers if r.status_code == 429]
    assert all(int(r.headers.get("Retry-After", "0")) >= 1 for r in limited)
    assert sum(engine.values()) <= SHARED + PER_MINUTE, (
        f"{len(answers)} x {method} {pattern} by a plain user cost the engine {engine}; "
        f"answers {sorted({r.status_code for r in answers})}"
    )
    assert requests.get(hub.hub_url + "api/").status_code == 200
