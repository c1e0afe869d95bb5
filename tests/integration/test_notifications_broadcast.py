"""Admin broadcast into real labs: what arrives in each lab's extension queue, the reasons for
labs that cannot take it (stopped, extension absent, hanging), validation, permissions, and a
history that survives a hub restart."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest
from harness import LAB_IMAGE, engine

from stellars_hub import labnotify, naming

TIMEOUT = 2  # per-lab timeout of this module's hub
HUB_ENV = {"JUPYTERHUB_NOTIFICATIONS_TIMEOUT": str(TIMEOUT)}
QUEUE = "jupyterlab-notifications-extension/notifications"
INGEST_LOG = "/jupyterlab-notifications-extension/ingest"  # jupyter-server logs refusals, not successes


def disable_extension_in_home(name: str) -> None:
    """Prepare the user's home volume before the first start: the image's /home copied in by
    the engine, plus a user-level Jupyter config that switches the server extension off (what
    a user could do themselves; the image stays untouched)."""
    config = json.dumps({"ServerApp": {"jpserver_extensions": {"jupyterlab_notifications_extension": False}}})
    engine().containers.run(
        LAB_IMAGE,
        entrypoint=["sh", "-c", f"mkdir -p ~/.jupyter && echo '{config}' > ~/.jupyter/jupyter_server_config.json"],
        volumes={naming.volume_name(name, "home"): {"bind": "/home", "mode": "rw"}},
        name=naming.container_name(name) + "-prep",
        remove=True,
    )


@pytest.fixture(scope="module")
def labs(hub):
    """Labs of this module: two healthy, one without the extension, two to hang, one stopped."""
    admin = hub.admin_session()
    users = {role: hub.new_user(role) for role in ("a", "b", "noext", "hang1", "hang2", "stopped")}
    disable_extension_in_home(users["noext"][0])
    for name, session in users.values():  # ask for every start first: they spawn side by side
        r = hub.api(session, "POST", f"users/{name}/server")
        assert r.status_code in (201, 202), r.text
    for name, session in users.values():
        hub.wait_server(session, name, ready=True, timeout=180)
    name, session = users["stopped"]
    hub.stop_server(session, name)
    return {"admin": admin, **{role: name for role, (name, _) in users.items()}}


def queue(hub, name) -> list[dict]:
    """Drain and return what the lab's extension holds (its own notifications endpoint)."""
    r = hub.lab(name, "GET", QUEUE)
    assert r.status_code == 200, r.text
    return r.json()["notifications"]


def broadcast(hub, body, session=None, **kwargs):
    return hub.api(session or hub.admin_session(), "POST", "notifications/broadcast", json=body, **kwargs)


def by_user(result) -> dict:
    return {d["username"]: d for d in result["details"]}


def test_two_labs_receive_the_broadcast_in_their_extension_queue(hub, labs):
    a, b = labs["a"], labs["b"]
    for name in (a, b):
        queue(hub, name)  # start empty
    r = broadcast(
        hub, {"message": "  Hub maintenance at 18:00  ", "type": "warning", "autoClose": False, "recipients": [a, b]}
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["total"], result["successful"], result["failed"]) == (2, 2, 0)
    assert by_user(result) == {
        a: {"username": a, "server": "", "status": "delivered", "error": None},
        b: {"username": b, "server": "", "status": "delivered", "error": None},
    }
    for name in (a, b):
        [got] = queue(hub, name)
        assert got["message"] == "Hub maintenance at 18:00"  # trimmed
        assert got["type"] == "warning" and got["autoClose"] is False
        assert [x["label"] for x in got["actions"]] == ["Dismiss"]
        # delivery used one token, scoped to this one server and expiring within minutes
        tokens = hub.api(labs["admin"], "GET", f"users/{name}/tokens").json()["api_tokens"]
        [used] = [t for t in tokens if t["note"] == "admin broadcast"]
        assert f"access:servers!server={name}/" in used["scopes"]
        assert all(s.endswith((f"={name}", f"={name}/")) for s in used["scopes"])  # nothing beyond this user
        expires = datetime.fromisoformat(used["expires_at"].replace("Z", "+00:00"))
        assert timedelta(0) < expires - datetime.now(timezone.utc) <= timedelta(seconds=labnotify.TOKEN_LIFETIME)

    r = broadcast(hub, {"message": "closes itself", "type": "in-progress", "autoClose": True, "recipients": [a]})
    assert r.status_code == 200 and r.json()["successful"] == 1
    [got] = queue(hub, a)
    assert got["type"] == "in-progress" and got["autoClose"] == labnotify.DEFAULT_AUTO_CLOSE_MS


def test_stopped_missing_extension_and_hanging_labs_fail_with_reasons_others_delivered(hub, labs):
    a, b = labs["a"], labs["b"]
    hanging = [engine().containers.get(naming.container_name(labs[k])) for k in ("hang1", "hang2")]
    recipients = [labs["stopped"], a, labs["hang1"], labs["noext"], labs["hang2"], b]
    for name in (a, b):
        queue(hub, name)  # start empty
    try:
        for c in hanging:
            c.pause()  # the lab's process is frozen: connections are accepted, nothing answers
        started = time.monotonic()
        r = broadcast(hub, {"message": "partial", "type": "error", "recipients": recipients})
        elapsed = time.monotonic() - started
    finally:
        for c in hanging:
            c.unpause()
    assert r.status_code == 200, r.text
    result = r.json()
    assert [d["username"] for d in result["details"]] == recipients  # in the order asked for
    assert {n: (d["status"], d["error"]) for n, d in by_user(result).items()} == {
        labs["stopped"]: ("failed", "server not running"),
        labs["noext"]: ("failed", "notifications extension not installed"),
        labs["hang1"]: ("failed", "not responding"),
        labs["hang2"]: ("failed", "not responding"),
        a: ("delivered", None),
        b: ("delivered", None),
    }
    assert (result["total"], result["successful"], result["failed"]) == (6, 2, 4)
    # two hanging labs were waited for side by side: one timeout, not two
    assert TIMEOUT <= elapsed < 2 * TIMEOUT
    for name in (a, b):
        assert [n["message"] for n in queue(hub, name)] == ["partial"]

    # woken up, each hanging lab finally reads the request it had been sent; its token was
    # revoked meanwhile, so the lab refuses it and the message reported as failed never shows
    for c in hanging:
        deadline = time.monotonic() + 60
        while INGEST_LOG.encode() not in c.logs() and time.monotonic() < deadline:
            time.sleep(0.5)
        refused = [line for line in c.logs().decode(errors="replace").splitlines() if INGEST_LOG in line]
        assert refused and all(" 403 POST " in line for line in refused), refused
    for key in ("hang1", "hang2"):
        assert "partial" not in [n["message"] for n in queue(hub, labs[key])]


def test_without_recipients_every_running_lab_is_reached(hub, labs):
    active = hub.api(hub.admin_session(), "GET", "notifications/active-servers")
    assert active.status_code == 200
    running = {s["username"] for s in active.json()["servers"]}
    assert running == {labs[k] for k in ("a", "b", "noext", "hang1", "hang2")}  # not the stopped one
    assert all(s["started"] for s in active.json()["servers"])

    r = broadcast(hub, {"message": "to everyone"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert set(by_user(result)) == running
    assert by_user(result)[labs["noext"]]["error"] == "notifications extension not installed"
    assert result["successful"] == len(running) - 1
    got = queue(hub, labs["hang1"])
    assert got[-1]["message"] == "to everyone" and got[-1]["type"] == "info"  # default type


@pytest.mark.parametrize(
    "body, field",
    [
        ({"message": ""}, "message"),
        ({"message": "   \n "}, "message"),
        ({"message": "x" * 141}, "message"),
        ({"message": 42}, "message"),
        ({"type": "info"}, "message"),
        ({"message": "hi", "type": "urgent"}, "type"),
        ({"message": "hi", "autoClose": "yes"}, "autoClose"),
        ({"message": "hi", "autoClose": 5000}, "autoClose"),
        ({"message": "hi", "recipients": []}, "recipients"),
        ({"message": "hi", "recipients": "alice"}, "recipients"),
        ({"message": "hi", "recipients": [1, 2]}, "recipients"),
        ({"message": "hi", "recipients": ["nobody-xyz", "nobody-abc"]}, "recipients"),
        ({"message": "hi", "colour": "red"}, "colour"),
    ],
)
def test_bad_fields_are_400_naming_the_field(hub, labs, body, field):
    r = broadcast(hub, body)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["message"].startswith(f"{field}:")
    if field == "recipients" and body["recipients"] == ["nobody-xyz", "nobody-abc"]:
        assert "nobody-xyz" in r.json()["message"] and "nobody-abc" in r.json()["message"]


def test_bad_bodies_and_edges(hub, labs):
    assert broadcast(hub, {"message": "x" * 140 + "   ", "recipients": [labs["a"]]}).status_code == 200
    r = hub.api(hub.admin_session(), "POST", "notifications/broadcast", data="{not json")
    assert r.status_code == 400 and "JSON" in r.json()["message"]
    r = broadcast(hub, ["message"])
    assert r.status_code == 400 and "JSON object" in r.json()["message"]
    r = hub.api(hub.admin_session(), "GET", "notifications/history?limit=0")
    assert r.status_code == 400 and r.json()["message"].startswith("limit:")


def test_permission_matrix(hub, labs):
    user, session = hub.new_user("plain")
    admin = hub.admin_session()
    body = {"message": "may I?", "recipients": [labs["a"]]}
    endpoints = [
        ("GET", "notifications/active-servers", None),
        ("GET", "notifications/history", None),
        ("POST", "notifications/broadcast", body),
    ]
    full_admin_token = hub.token_for(hub.admin)
    narrow_admin_token = hub.token_for(hub.admin, ["read:users"])
    user_token = hub.token_for(user)
    for method, path, json_body in endpoints:
        assert hub.api(admin, method, path, json=json_body).status_code == 200, path
        assert hub.api(None, method, path, token=full_admin_token, json=json_body).status_code == 200, path
        for who, kwargs in [
            ("user cookie", {"session": session}),
            ("user token", {"token": user_token}),
            ("narrow admin token", {"token": narrow_admin_token}),
            ("anonymous", {}),
        ]:
            r = hub.api(kwargs.pop("session", None), method, path, json=json_body, **kwargs)
            assert r.status_code == 403, (who, path, r.status_code)
            assert r.json()["status"] == 403
    # a cookie request without the XSRF token is refused even for an admin
    r = hub.api(admin, "POST", "notifications/broadcast", json=body, headers={"X-XSRFToken": "wrong"})
    assert r.status_code == 403

    # the page and its nav entry: admins only
    page = admin.get(hub.hub_url + "notifications")
    assert page.status_code == 200 and 'id="notify-message"' in page.text
    assert admin.get(hub.hub_url + "home").text.count('id="nav-notifications"') == 1
    assert session.get(hub.hub_url + "notifications").status_code == 403
    assert 'id="nav-notifications"' not in session.get(hub.hub_url + "home").text


def test_history_survives_a_hub_restart_in_its_own_file(hub, labs):
    r = broadcast(hub, {"message": "for the record", "type": "error", "recipients": [labs["a"], labs["stopped"]]})
    assert r.status_code == 200, r.text
    before = hub.api(hub.admin_session(), "GET", "notifications/history").json()["broadcasts"]
    latest = before[0]
    assert latest["id"] == r.json()["id"] and latest["sent_at"] == r.json()["sent_at"]
    assert (latest["message"], latest["type"], latest["sender"], latest["recipients"]) == (
        "for the record",
        "error",
        hub.admin,
        "selected",
    )
    assert (latest["total"], latest["successful"], latest["failed"], latest["autoClose"]) == (2, 1, 1, False)
    assert latest["details"] == r.json()["details"]

    # its own SQLite file, not a table in the hub's database
    with sqlite3.connect(hub.data_dir / "notifications.sqlite") as db:
        assert db.execute("SELECT count(*) FROM broadcasts").fetchone()[0] == len(before)
    with sqlite3.connect(hub.data_dir / "jupyterhub.sqlite") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "broadcasts" not in tables and "deliveries" not in tables

    # a renamed user keeps their place in the history
    old = labs["stopped"]
    new = old + "-renamed"
    r = hub.api(hub.admin_session(), "PATCH", f"users/{old}", json={"name": new})
    assert r.status_code == 200, r.text
    labs["stopped"] = new
    renamed = hub.api(hub.admin_session(), "GET", "notifications/history").json()["broadcasts"]
    names = {d["username"] for b in renamed for d in b["details"]}
    assert new in names and old not in names

    hub.stop()
    hub.start()
    after = hub.api(hub.admin_session(), "GET", "notifications/history").json()["broadcasts"]
    assert after == renamed
    # labs kept running across the restart and still take broadcasts
    r = broadcast(hub, {"message": "after restart", "recipients": [labs["a"]]})
    assert r.status_code == 200 and r.json()["successful"] == 1
