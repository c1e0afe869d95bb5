"""A lab that exits at its start fails the spawn with its own output (Docker; starting, stopping and
the lab's shape are scenarios on both backends: tests/scenarios/test_running_labs.py)."""

from __future__ import annotations

from harness import engine

from stellars_hub import naming


def _inspect(name):
    return engine().api.inspect_container(naming.container_name(name))


def _spawn_outcome(hub, session, name) -> str:
    """The message a browser sees for a start: the API's answer, or its progress stream's end."""
    import json

    r = hub.api(session, "POST", f"users/{name}/server")
    if r.status_code >= 400:
        return r.text
    with hub.api(
        session, "GET", f"users/{name}/server/progress", stream=True, headers={"Accept": "text/event-stream"}
    ) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                event = json.loads(line[5:])
                if event.get("ready") or event.get("failed"):
                    return event.get("message", "")
    return ""


def test_lab_that_exits_at_start_fails_its_spawn_with_its_own_output(make_hub):
    hub = make_hub()
    name, session = hub.new_user("exits")
    hub.start_server(session, name)
    # a server config in the persistent home volume that makes the lab exit at its next start
    out = (
        engine()
        .containers.get(naming.container_name(name))
        .exec_run(
            [
                "sh",
                "-c",
                "mkdir -p /home/lab/.jupyter && "
                "echo 'raise SystemExit(\"lab refuses to start\")' > /home/lab/.jupyter/jupyter_server_config.py",
            ]
        )
    )
    assert out.exit_code == 0
    hub.stop_server(session, name)

    message = _spawn_outcome(hub, session, name)
    assert "the lab container stopped before it answered" in message, message
    assert "lab refuses to start" in message, message
    model = hub.wait_server(session, name, ready=False, timeout=120)
    assert not model.get("pending"), model
