"""Restart Server on the real engine: serialised, never blocking other users, rate-limited, a lab
that does not come back (the restart in place itself is a scenario on both backends)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from harness import TEST_ENV, Hub, engine, remove_test_objects

from stellars_hub import naming

STOP_TIMEOUT = 6


@pytest.fixture(scope="module")
def slow_hub(docker_engine, tmp_path_factory):
    """Labs here ignore the stop signal (SIGWINCH), so every restart takes the full graceful
    timeout before the engine kills and starts the container: a lab that ignores SIGTERM."""
    hub = Hub(
        data_dir=tmp_path_factory.mktemp("hub"),
        env={**TEST_ENV, "JUPYTERHUB_RESTART_TIMEOUT": str(STOP_TIMEOUT)},
        extra_args=["--StellarsSpawner.extra_create_kwargs=stop_signal=SIGWINCH"],
    ).start()
    yield hub
    hub.stop()
    remove_test_objects()


def _state(name):
    return engine().api.inspect_container(naming.container_name(name))


def test_restart_refused_when_not_running(hub):
    name, session = hub.new_user("rsx")
    r = hub.api(session, "POST", f"users/{name}/restart-server")
    assert r.status_code == 409
    assert "not running" in r.json()["message"] and "start it" in r.json()["message"]


def test_restart_unknown_user_404(hub):
    r = hub.api(hub.admin_session(), "POST", "users/nobody-here-xyz/restart-server")
    assert r.status_code == 404 and r.json()["message"] == "no user named 'nobody-here-xyz'"


def test_slow_restart_never_blocks_other_users_and_second_request_gets_409(slow_hub):
    hub = slow_hub
    slow, slow_session = hub.new_user("slow")
    other, other_session = hub.new_user("other")
    hub.start_server(slow_session, slow)
    before = _state(slow)

    events = []
    results = {}

    def restart(key):
        r = hub.api(slow_session, "POST", f"users/{slow}/restart-server")
        results[key] = r
        events.append(("restart-done", key, time.monotonic()))

    first = threading.Thread(target=restart, args=("first",))
    first.start()
    # wait until the engine is busy stopping the container (progress is reported while it runs)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        p = hub.api(slow_session, "GET", f"users/{slow}/restart-server").json()
        if p["running"]:
            break
        time.sleep(0.1)
    assert p["running"] and p["progress"]["phase"] == "restarting"

    # a second restart of the same user while the first runs: refused, never queued
    restart("second")
    assert results["second"].status_code == 409
    assert "already running" in results["second"].json()["message"]

    # other users are served meanwhile, including requests that need the engine
    r1 = hub.api(other_session, "GET", f"users/{other}")
    r2 = hub.api(other_session, "GET", f"users/{other}/manage-volumes")
    events.append(("other-done", None, time.monotonic()))
    assert r1.status_code == 200 and r2.status_code == 200
    # ...and were answered while the engine was still stopping the slow lab: had the restart
    # blocked the event loop, they would only have been answered after the container restarted
    assert _state(slow)["State"]["StartedAt"] == before["State"]["StartedAt"]

    first.join(120)
    assert results["first"].status_code == 200, results["first"].text
    order = [e[0] for e in events if e[1] != "second"]
    assert order == ["other-done", "restart-done"]
    after = _state(slow)
    assert after["Id"] == before["Id"] and after["State"]["StartedAt"] > before["State"]["StartedAt"]
    # exactly one restart happened; the refused one is audited as such
    audit = [json.loads(x) for x in (hub.data_dir / "audit.log").read_text().splitlines()]
    outcomes = sorted(a["outcome"] for a in audit if a["target"] == slow and a["action"] == "restart-server")
    assert outcomes == ["ok", "refused 409"]


def test_rate_limit_per_user(make_hub):
    hub = make_hub(JUPYTERHUB_SELFSERVICE_RATE_LIMIT="2")
    name, session = hub.new_user("rl")
    other, other_session = hub.new_user("rl2")
    codes = [
        hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["cache"]}).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    r = hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["cache"]})
    assert r.status_code == 429 and "try again in" in r.json()["message"] and int(r.headers["Retry-After"]) > 0
    # the limit is per user
    assert (
        hub.api(other_session, "DELETE", f"users/{other}/manage-volumes", json={"volumes": ["cache"]}).status_code
        == 200
    )


def test_lab_that_does_not_come_back_gets_a_clear_error(make_hub):
    hub = make_hub(JUPYTERHUB_RESTART_READY_TIMEOUT="5")
    name, session = hub.new_user("dead")
    hub.start_server(session, name)
    # a config file that makes the lab exit at its next start
    out = (
        engine()
        .containers.get(naming.container_name(name))
        .exec_run(
            [
                "sh",
                "-c",
                "mkdir -p /home/lab/.jupyter && echo 'raise SystemExit(3)' > /home/lab/.jupyter/jupyter_server_config.py",
            ]
        )
    )
    assert out.exit_code == 0
    r = hub.api(session, "POST", f"users/{name}/restart-server")
    assert r.status_code == 504
    message = r.json()["message"]
    assert "did not answer within 5 s" in message and "stop your server and start it again" in message
    audit = [json.loads(x) for x in (hub.data_dir / "audit.log").read_text().splitlines()]
    assert [a["outcome"] for a in audit if a["target"] == name and a["action"] == "restart-server"] == ["failed 504"]
