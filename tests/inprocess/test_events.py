"""The audit page (/hub/events, admin navigation) and GET /hub/api/events: newest first,
filters by user, actor, action and outcome, paging; admins or custom:events:read only."""

from __future__ import annotations

import requests

READER = "evreader"
ROLE = f"""
c.JupyterHub.load_roles = [
    {{"name": "events-reader", "scopes": ["custom:events:read"], "users": ["{READER}"]}}]
"""


def test_events_api_and_page(make_hub):
    hub = make_hub(extra_config=ROLE)
    admin = hub.admin_session()
    a, a_session = hub.new_user("eva")
    b, _ = hub.new_user("evb")
    hub.authorize(a)  # un-authorise a
    hub.authorize(a)  # and authorise again
    assert hub.api(admin, "DELETE", f"users/{b}").status_code == 204

    r = hub.api(admin, "GET", "events")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.json()
    times = [e["time"] for e in body["events"]]
    assert times == sorted(times, reverse=True) and body["total"] == len(body["events"]) >= 3
    assert body["events"][0]["action"] == "delete-user" and body["events"][0]["target"] == b

    mine = hub.api(admin, "GET", f"events?user={a}").json()["events"]
    assert [e["action"] for e in mine] == ["authorize", "unauthorize", "authorize"] and all(
        e["target"] == a for e in mine
    )
    assert all(e["actor"] == hub.admin for e in hub.api(admin, "GET", f"events?actor={hub.admin}").json()["events"])
    assert hub.api(admin, "GET", "events?action=delete-user").json()["total"] == 1
    assert hub.api(admin, "GET", "events?outcome=ok").json()["total"] == body["total"]
    assert hub.api(admin, "GET", "events?outcome=refused").json()["total"] == 0
    page = hub.api(admin, "GET", "events?limit=1&offset=1").json()
    assert page["events"] == body["events"][1:2] and page["total"] == body["total"]
    r = hub.api(admin, "GET", "events?limit=lots")
    assert r.status_code == 400 and "limit" in r.json()["message"]
    assert hub.api(admin, "GET", "events?limit=100000").status_code == 400

    # who may read it (a's old session ended when a was un-authorised: log in again)
    assert hub.api(a_session, "GET", "events").status_code == 403
    a_session = hub.login(a)
    assert hub.api(a_session, "GET", "events").status_code == 403
    assert requests.get(hub.hub_url + "api/events").status_code in (401, 403)
    filtered = hub.token_for(hub.admin, [f"admin:users!user={a}"])
    assert hub.api(None, "GET", "events", token=filtered).status_code == 403
    reader = hub.token_for(READER, ["custom:events:read"])
    assert hub.api(None, "GET", "events", token=reader).json()["total"] == body["total"]

    # the page: in the admin navigation, a table newest first, filter and paging links
    html = admin.get(hub.hub_url + "events").text
    assert 'id="events-table"' in html and f"{hub.hub_url.split('127.0.0.1:')[1].split('/', 1)[1]}events" in html
    assert html.index(b) < html.index(a)  # the deletion (newest) comes first
    html = admin.get(hub.hub_url + f"events?user={a}&limit=1").text
    assert html.count('class="event-row"') == 1 and 'id="events-older"' in html
    assert a_session.get(hub.hub_url + "events").status_code == 403
