"""Self-service restart: other users' latency during slow restarts, and Restart vs stop+start."""

from __future__ import annotations

import threading

from .common import median, running_hub, timed, wait_answering

SAMPLES = 30


def _latencies(hub, session, name, n=SAMPLES):
    out = []
    for _ in range(n):
        out.append(timed(hub.api, session, "GET", f"users/{name}/manage-volumes"))
    return out


def run():
    rows = []
    # labs that ignore the stop signal: each restart takes the whole graceful timeout
    with running_hub(extra_args=["--StellarsSpawner.extra_create_kwargs=stop_signal=SIGWINCH"],
                     JUPYTERHUB_RESTART_TIMEOUT="5") as hub:
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
        rows.append(("other users' latency during slow restart / idle", median(during) / median(idle),
                     f"GET manage-volumes (uses the engine), {len(during)} samples during, {len(idle)} idle"))

    with running_hub() as hub:
        name, session = hub.new_user("rs")
        hub.start_server(session, name)
        token = hub.token_for(name)

        def restart_in_place():
            r = hub.api(session, "POST", f"users/{name}/restart-server")
            assert r.status_code == 200, r.text

        def stop_and_start():
            hub.stop_server(session, name)
            hub.start_server(session, name)
            wait_answering(lambda: hub.lab(name, "GET", "api/status", token))

        in_place = [timed(restart_in_place) for _ in range(3)]
        respawn = [timed(stop_and_start) for _ in range(3)]
        rows.append(("Restart Server / JupyterHub stop+start", median(in_place) / median(respawn),
                     "until the lab answers through the hub; median of 3"))
    return rows
