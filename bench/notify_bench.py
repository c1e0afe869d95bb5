"""Admin broadcast on the real engine: 1 lab vs 20 labs, and 20 labs of which 5 hang.

run() -> rows of (name, ratio, note). Run it alone with ``.venv/bin/python -m bench.notify_bench``
from the repository root (``make bench`` runs every bench module). It starts its own hub and 20
labs from the test lab image on host networking, and removes them afterwards.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import RUN_PREFIX, TEST_ENV, Hub, engine, remove_test_objects  # noqa: E402

from bench.pages_bench import _hub_pid  # noqa: E402
from bench.phases import container_cpu_seconds, hub_events, process_cpu_seconds  # noqa: E402
from stellars_hub import naming  # noqa: E402
from stellars_hub.labnotify import INGEST_PATH, payload  # noqa: E402

LABS = 20
HANGING = 5
TIMEOUT = 5  # the default per-lab timeout
REPEAT = 5
ENV = {**TEST_ENV, "JUPYTERHUB_NOTIFICATIONS_TIMEOUT": str(TIMEOUT)}


def _broadcast(hub, recipients) -> tuple[float, dict]:
    start = time.perf_counter()
    r = hub.api(
        hub.admin_session(), "POST", "notifications/broadcast", json={"message": "bench", "recipients": recipients}
    )
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, r.text
    return elapsed, r.json()


def _timed(hub, recipients, expect_ok: int, n: int = REPEAT) -> float:
    times = []
    for _ in range(n):
        elapsed, result = _broadcast(hub, recipients)
        assert result["successful"] == expect_ok, result
        times.append(elapsed)
    return statistics.median(times)


def _lab_urls(names) -> dict[str, str]:
    """Each lab's own ingest URL (host networking: the port is in the lab's environment)."""
    urls = {}
    for n in names:
        env = engine().containers.get(naming.container_name(n)).attrs["Config"]["Env"]
        service = next(e for e in env if e.startswith("JUPYTERHUB_SERVICE_URL=")).split("=", 1)[1]
        urls[n] = service.rstrip("/") + "/" + INGEST_PATH
    return urls


def _direct(urls: dict[str, str], tokens: dict[str, str], n: int = REPEAT) -> float:
    """The same ingest POST sent by this process straight to the labs, all at once, with the
    same HTTP client the hub uses: the labs' own work (and the client's), no hub in between."""
    import asyncio

    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    body = json.dumps(payload("bench direct"))

    async def once():
        client = AsyncHTTPClient(force_instance=True, max_clients=32)
        try:
            start = time.perf_counter()
            await asyncio.gather(
                *(
                    client.fetch(
                        HTTPRequest(
                            urls[n],
                            method="POST",
                            body=body,
                            request_timeout=TIMEOUT,
                            headers={"Authorization": f"token {tokens[n]}", "Content-Type": "application/json"},
                        )
                    )
                    for n in urls
                )
            )
            return time.perf_counter() - start
        finally:
            client.close()

    return statistics.median([asyncio.run(once()) for _ in range(max(1, n))])


def _cpu_lines(lab_cpu, direct_lab_cpu, hub_cpu, one) -> dict:
    """The labs' CPU per 20-lab broadcast and the least wall time it allows on this machine's
    cores: the part of the ratio that is the labs' own work, whatever the hub does."""
    import os

    cores = os.cpu_count() or 1
    lines = {"hub process CPU per 20-lab broadcast (median)": statistics.median(hub_cpu)}
    if lab_cpu:
        labs = statistics.median(lab_cpu)
        floor = labs / cores
        lines.update(
            {
                "the 20 labs' CPU per hub broadcast (median, cgroups)": labs,
                "the 20 labs' CPU per direct POST to all 20 (median)": statistics.median(direct_lab_cpu)
                if direct_lab_cpu
                else float("nan"),
                f"least wall time of the labs' own work on {cores} cores": floor,
                # 20 labs take at least: the 1-lab broadcast less its one lab's share, plus all 20
                "ratio floor from the labs' own work ((1 lab - a lab's CPU + that) / 1 lab)": f"{(one - labs / LABS + floor) / one:.2f}",
            }
        )
    return lines


def _hub_side(hub, names, since: float) -> dict:
    """What the hub logged during the timed broadcasts: the labs' token checks (GET
    /hub/api/user) and the tokens it issued."""
    events = hub_events(hub.log_text(), since)
    checks = [m for _, m in events if "GET " in m and "/hub/api/user " in m]
    issued = 0
    for n in names:
        r = hub.api(hub.admin_session(), "GET", f"users/{n}/tokens")
        issued += sum(1 for t in r.json().get("api_tokens", []) if t.get("note") == "admin broadcast")
    return {"checks": len(checks), "issued": issued}


def run():
    hub = Hub(data_dir=Path(tempfile.mkdtemp(prefix="bench-notify-")), env=dict(ENV)).start()
    try:
        hub.admin_session()
        users = [hub.new_user(f"nb{i}") for i in range(LABS)]
        for name, session in users:
            assert hub.api(session, "POST", f"users/{name}/server").status_code in (201, 202)
        for name, session in users:
            hub.wait_server(session, name, ready=True, timeout=600)
        names = [n for n, _ in users]
        _broadcast(hub, names)  # warm-up: first connections, first token look-ups

        urls = _lab_urls(names)
        # the scopes the hub's own broadcast tokens carry: the server, and the lab's admission scope
        tokens = {
            n: hub.token_for(n, scopes=[f"access:servers!server={n}/", f"custom:labaccess:enter!user={n}"])
            for n in names
        }
        _direct(urls, tokens, n=0)  # warm-up: the labs check these tokens with the hub once
        t_timed = time.time()
        ids = [engine().containers.get(naming.container_name(n)).id for n in names]
        hub_pid = _hub_pid(hub)

        def cpu():  # (the 20 labs together, the hub process) in CPU seconds
            labs = [container_cpu_seconds(i) for i in ids]
            return (None if None in labs else sum(labs)), process_cpu_seconds(hub_pid)

        ones, twenties, direct_ones, direct_twenties, lab_cpu, hub_cpu, direct_lab_cpu = [], [], [], [], [], [], []
        for _ in range(REPEAT):  # interleaved, so hub and direct rounds see the same load
            ones.append(_timed(hub, names[:1], 1, n=1))
            before = cpu()
            twenties.append(_timed(hub, names, LABS, n=1))
            after = cpu()
            if before[0] is not None and after[0] is not None:
                lab_cpu.append(after[0] - before[0])
            hub_cpu.append(after[1] - before[1])
            direct_ones.append(_direct({names[0]: urls[names[0]]}, tokens, n=1))
            before = cpu()
            direct_twenties.append(_direct(urls, tokens, n=1))
            after = cpu()
            if before[0] is not None and after[0] is not None:
                direct_lab_cpu.append(after[0] - before[0])
        hub_side = _hub_side(hub, names, t_timed)
        one, twenty = statistics.median(ones), statistics.median(twenties)
        direct_one, direct_twenty = statistics.median(direct_ones), statistics.median(direct_twenties)
        one_at_a_time = sum(_timed(hub, [n], 1, n=1) for n in names)
        paused = [engine().containers.get(naming.container_name(n)) for n in names[:HANGING]]
        try:
            for c in paused:
                c.pause()
            hanging = _timed(hub, names, LABS - HANGING, n=3)
        finally:
            for c in paused:
                c.unpause()
        return [
            (
                "broadcast to 20 labs / to 1 lab",
                twenty / one,
                f"median of {REPEAT}; 1 lab {one * 1000:.0f} ms, 20 labs {twenty * 1000:.0f} ms",
                "<= 1.5",
                {
                    "broadcast (median; the labs' own floor is the direct POST)": {
                        "hub broadcast, 1 lab": one,
                        "hub broadcast, 20 labs": twenty,
                        "direct POST from the bench, 1 lab (lab's own work + client)": direct_one,
                        "direct POST from the bench, 20 labs at once": direct_twenty,
                        "hub's fixed cost per broadcast (1 lab: broadcast - direct)": one - direct_one,
                        "hub's own share, 20 labs (broadcast - direct)": twenty - direct_twenty,
                        "hub: 19 more labs cost (20 labs - 1 lab)": twenty - one,
                        "labs' own: 19 more labs cost, direct POST (20 - 1)": direct_twenty - direct_one,
                        **_cpu_lines(lab_cpu, direct_lab_cpu, hub_cpu, one),
                        f"lab token checks at the hub during {2 * REPEAT} timed broadcasts and direct POSTs": f"{hub_side['checks']} requests",
                        "broadcast tokens the hub holds for the 20 users": f"{hub_side['issued']} tokens",
                    }
                },
            ),
            (
                "20 labs at once / 20 one at a time",
                twenty / one_at_a_time,
                "same 20 labs; one at a time = sum of 20 single-lab broadcasts",
            ),
            (
                "hub broadcast to 20 / direct POST to the same 20 labs",
                twenty / direct_twenty,
                f"direct: the bench posts to the labs itself ({direct_twenty * 1000:.0f} ms); 1.0 = no hub cost",
                None,
            ),
            (
                f"20 labs, {HANGING} hanging / one per-lab timeout",
                hanging / TIMEOUT,
                f"timeout {TIMEOUT} s, hanging labs paused with docker pause; median of 3 (sequential would be {HANGING})",
            ),
        ]
    finally:
        hub.stop()
        remove_test_objects(RUN_PREFIX)


if __name__ == "__main__":
    for name, ratio, note in run():
        print(f"{name:<45} {ratio:>7.2f}  {note}")
