"""Self-service restart: other users' latency during slow restarts, and Restart vs stop+start."""

from __future__ import annotations

import threading
import time

from .common import median, running_hub, timed  # first: puts tests/ on the path

from harness import engine  # noqa: E402  (isort: skip)

from stellars_hub import naming

from .phases import engine_events, last_listening, median_phases, restart_breakdown, stop_breakdown
from .spawn_bench import hub_spawn

SAMPLES = 30
RESTART_ROUNDS = 5  # the lab's own start-up varies by a few hundred ms from one start to the next


def _latencies(hub, session, name, n=SAMPLES):
    out = []
    for _ in range(n):
        out.append(timed(hub.api, session, "GET", f"users/{name}/manage-volumes"))
    return out


def run():
    rows = []
    # labs that ignore the stop signal: each restart takes the whole graceful timeout
    with running_hub(
        extra_args=["--StellarsSpawner.extra_create_kwargs=stop_signal=SIGWINCH"], JUPYTERHUB_RESTART_TIMEOUT="5"
    ) as hub:
        slow, slow_s = hub.new_user("slow")
        other, other_s = hub.new_user("other")
        hub.start_server(slow_s, slow)
        idle = _latencies(hub, other_s, other)
        during = []
        restart = threading.Thread(target=hub.api, args=(slow_s, "POST", f"users/{slow}/restart-server"))
        restart.start()
        while restart.is_alive() and len(during) < SAMPLES * 3:
            during.extend(_latencies(hub, other_s, other, 1))
        restart.join()
        rows.append(
            (
                "other users' latency during slow restart / idle",
                median(during) / median(idle),
                f"GET manage-volumes (uses the engine), {len(during)} samples during, {len(idle)} idle",
                "<= 1.2",
            )
        )

    with running_hub(extra_args=["--debug"]) as hub:
        name, session = hub.new_user("rs")
        hub.start_server(session, name)
        token = hub.token_for(name)

        def restart_in_place():
            t0 = time.time()
            r = hub.api(session, "POST", f"users/{name}/restart-server")
            t1 = time.time()
            assert r.status_code == 200, r.text
            c = engine().containers.get(naming.container_name(name))
            events = engine_events(c.id, t0, t1)
            return t1 - t0, restart_breakdown(events, last_listening(c, t0), t0, t1)

        def stop_and_start():
            cid = engine().containers.get(naming.container_name(name)).id
            t0 = time.time()
            r = hub.api(session, "DELETE", f"users/{name}/server")
            assert r.status_code in (202, 204), r.text
            while hub.api(session, "GET", f"users/{name}").json().get("servers", {}).get(""):
                time.sleep(0.05)
            t1 = time.time()
            stop = stop_breakdown(engine_events(cid, t0, t1), t0, t1)
            spawn_s, spawn = hub_spawn(hub, session, name, token)
            return t1 - t0 + spawn_s, {
                **{f"stop: {k}": v for k, v in stop.items()},
                **{f"start: {k}": v for k, v in spawn.items()},
            }

        in_place, respawn = [], []
        for _ in range(RESTART_ROUNDS):  # interleaved, so both see the same machine load
            in_place.append(restart_in_place())
            respawn.append(stop_and_start())
        a, b = median(t for t, _ in in_place), median(t for t, _ in respawn)
        restart_phases = median_phases([p for _, p in in_place])
        lab_own = sum(
            restart_phases.get(k, 0.0)
            for k in ("graceful stop (lab's own shutdown)", "lab start-up (interpreter, imports, server)")
        )
        rows.append(
            (
                "Restart Server / JupyterHub stop+start",
                a / b,
                f"until the lab answers through the hub; median of {RESTART_ROUNDS}: restart {a:.2f} s, stop+start {b:.2f} s",
                "<= 0.5",
                {
                    "Restart Server (median per phase)": restart_phases,
                    "stop + start (median per phase)": median_phases([p for _, p in respawn]),
                    "what the ratio can reach": {
                        "the lab's own work in a restart (graceful stop + start-up)": lab_own,
                        "the rest of a restart (hub, engine, readiness)": a - lab_own,
                        "ratio floor: the lab's own work / stop+start": f"{lab_own / b:.2f}",
                    },
                },
            )
        )
    return rows
