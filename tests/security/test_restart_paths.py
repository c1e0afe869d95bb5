"""Every way to restart a lab honours the policy and the per-user rules. An admin's batch restart
of a lab whose user has left docker-sock recreates it without the engine socket, as Restart Server
does; a batch restart meets a running self-service restart with the same 409, and counts against
the same per-user limit of restarts (429)."""

from __future__ import annotations

import json
import threading
import time

from harness import engine

from stellars_hub import naming

SOCK = "/var/run/docker.sock"
HUB_ENV = {"JUPYTERHUB_SELFSERVICE_RATE_LIMIT": "2"}


def _info(name):
    return engine().api.inspect_container(naming.container_name(name))


def _has_socket(info) -> bool:
    return any(m["Destination"] == SOCK for m in info["Mounts"])


def batch_restart(hub, session, name) -> dict:
    """POST /api/batch restart of one user, read to the end: that user's result."""
    r = hub.api(session, "POST", "batch", json={"action": "restart", "users": [name]}, stream=True, timeout=600)
    assert r.status_code == 200, r.text
    events = [json.loads(line) for line in r.iter_lines() if line]
    return next(e for e in events if e["event"] == "result" and e["username"] == name)


def test_batch_restart_recreates_a_lab_whose_privilege_was_taken_away(hub):
    admin = hub.admin_session()
    name, session = hub.new_user("rp")
    assert hub.api(admin, "POST", "groups/docker-sock/users", json={"users": [name]}).status_code == 200
    hub.start_server(session, name)
    before = _info(name)
    assert _has_socket(before)

    assert hub.api(admin, "DELETE", "groups/docker-sock/users", json={"users": [name]}).status_code == 200
    result = batch_restart(hub, admin, name)
    assert result["outcome"] == "done", result
    after = _info(name)
    assert after["Id"] != before["Id"] and after["State"]["Running"]
    assert not _has_socket(after), "the batch restart brought back the engine socket of a removed member"
    assert hub.lab(name, "GET", "api").status_code == 200


def test_batch_restart_obeys_the_users_lock_and_limit(hub):
    admin = hub.admin_session()
    name, session = hub.new_user("rl")
    counted, counted_session = hub.new_user("rc")
    hub.start_server(session, name)
    hub.start_server(counted_session, counted)

    # the lock: a batch restart while the user's own restart runs is refused like a second one
    answer = {}
    own = threading.Thread(
        target=lambda: answer.setdefault("r", hub.api(session, "POST", f"users/{name}/restart-server", timeout=300))
    )
    own.start()
    deadline = time.monotonic() + 30
    while not hub.api(session, "GET", f"users/{name}/restart-server").json()["running"]:
        assert time.monotonic() < deadline, "the self-service restart never showed as running"
        time.sleep(0.05)
    during = batch_restart(hub, admin, name)
    own.join()
    assert answer["r"].status_code == 200, answer["r"].text
    assert during["outcome"] == "failed" and "already running" in during["error"], during

    # the limit: two operations of the user this minute (resets refused while the lab runs count
    # too), then a batch restart is over it, whoever asks
    for _ in range(2):
        r = hub.api(counted_session, "DELETE", f"users/{counted}/manage-volumes", json={"volumes": ["cache"]})
        assert r.status_code == 409, r.text
    over = batch_restart(hub, admin, counted)
    assert over["outcome"] == "failed" and "too many" in over["error"].lower(), over
    assert hub.api(counted_session, "POST", f"users/{counted}/restart-server").status_code == 429
