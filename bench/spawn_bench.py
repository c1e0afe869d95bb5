"""Hub spawn (the lab answering through the proxy) against a bare `docker run` of the image."""

from __future__ import annotations

import requests

from harness import LAB_IMAGE, engine, free_port

from .common import median, running_hub, timed, wait_answering

ROUNDS = 3


def _bare_run() -> float:
    port = free_port()

    def go():
        c = engine().containers.run(
            LAB_IMAGE, ["jupyter", "server", "--ip=127.0.0.1", f"--port={port}", "--IdentityProvider.token="],
            network_mode="host", detach=True, remove=True)
        try:
            wait_answering(lambda: requests.get(f"http://127.0.0.1:{port}/api", timeout=2))
        finally:
            c.remove(force=True)

    return timed(go)


def run():
    with running_hub() as hub:
        name, session = hub.new_user("bench")

        def spawn():
            hub.start_server(session, name)
            token = hub.token_for(name)
            wait_answering(lambda: hub.lab(name, "GET", "api/status", token))

        hub_times, bare_times = [], []
        for _ in range(ROUNDS):
            hub_times.append(timed(spawn))
            hub.stop_server(session, name)
            bare_times.append(_bare_run())
    return [("hub spawn / bare docker run", median(hub_times) / median(bare_times),
             f"median of {ROUNDS}; 1.0 would mean no hub overhead")]
