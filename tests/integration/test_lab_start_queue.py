"""Labs start a few at once, on the real engine: with JUPYTERHUB_LAB_STARTS_AT_ONCE=1, two users
who click Start together both get a working lab; the one whose start waits for its turn is told
so on its progress stream, and its container is only started once the first lab answers. Every
lab carries the configured CPU weight (JUPYTERHUB_LAB_CPU_SHARES)."""

from __future__ import annotations

import calendar
import json
import threading
import time
from datetime import datetime

from harness import engine

from stellars_hub import naming

SHARES = 300
HUB_ENV = {"JUPYTERHUB_LAB_STARTS_AT_ONCE": "1", "JUPYTERHUB_LAB_CPU_SHARES": str(SHARES)}


def _progress_messages(hub, session, name) -> list[str]:
    """Every progress message of a start until it is ready (or the stream ends)."""
    messages = []
    with hub.api(
        session,
        "GET",
        f"users/{name}/server/progress",
        headers={"Accept": "text/event-stream"},
        stream=True,
        timeout=300,
    ) as r:
        assert r.status_code == 200, r.text
        for line in r.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                event = json.loads(line[5:])
                messages.append(event.get("message", ""))
                assert not event.get("failed"), event
                if event.get("ready"):
                    break
    return messages


def engine_stamp(text: str) -> float:
    """An engine time stamp (RFC 3339 UTC, up to ns) as epoch seconds."""
    whole, _, rest = text.partition(".")
    fraction = "0." + "".join(ch for ch in rest.split("Z")[0] if ch.isdigit()) if rest else "0"
    return calendar.timegm(datetime.strptime(whole.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").timetuple()) + float(fraction)


def _started_and_listening(name) -> tuple[float, float]:
    c = engine().containers.get(naming.container_name(name))
    started = engine_stamp(c.attrs["State"]["StartedAt"])
    for line in c.logs(timestamps=True).decode(errors="replace").splitlines():
        if "is running at" in line:
            return started, engine_stamp(line)
    raise AssertionError(f"the lab of {name} never said it listens")


def test_starts_queue_and_every_lab_gets_the_cpu_weight(hub):
    first, first_s = hub.new_user("qa")
    second, second_s = hub.new_user("qb")
    # both clicks at once: a POST answers only after a while (or once the lab is up), so each
    # runs in its own thread, and the progress streams are read meanwhile, as the spawn page does
    answers: dict[str, int] = {}
    seen: dict[str, list[str]] = {}

    def click(name, session):
        answers[name] = hub.api(session, "POST", f"users/{name}/server").status_code

    def watch(name, session):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the hub has the start as pending
            server = hub.api(session, "GET", f"users/{name}").json().get("servers", {}).get("", {})
            if server.get("pending") == "spawn" or server.get("ready"):
                break
            time.sleep(0.05)
        seen[name] = _progress_messages(hub, session, name)

    threads = [
        threading.Thread(target=f, args=(n, s))
        for n, s in ((first, first_s), (second, second_s))
        for f in (click, watch)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert sorted(answers.values()) in ([201, 201], [201, 202], [202, 202]), answers
    for name, session in ((first, first_s), (second, second_s)):
        hub.wait_server(session, name, ready=True, timeout=300)
        assert hub.lab(name, "GET", "api/status", hub.token_for(name)).status_code == 200

    # one turn: the two labs' start-ups did not overlap, and the later one was told it waited
    spans = sorted(_started_and_listening(n) for n in (first, second))
    assert spans[1][0] >= spans[0][1], spans
    waited = [n for n in (first, second) if any("Waiting for other labs" in m for m in seen.get(n, []))]
    assert len(waited) == 1, seen
    assert "Labs start 1 at once" in hub.log_text()

    for name in (first, second):
        host = engine().api.inspect_container(naming.container_name(name))["HostConfig"]
        assert host["CpuShares"] == SHARES
    hub.stop_server(first_s, first)
    hub.stop_server(second_s, second)
