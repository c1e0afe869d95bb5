"""Admin broadcast on the real engine: 1 lab vs 20 labs, and 20 labs of which 5 hang.

run() -> rows of (name, ratio, note). Run it alone with ``.venv/bin/python -m bench.notify_bench``
from the repository root (``make bench`` runs every bench module). It starts its own hub and 20
labs from the test lab image on host networking, and removes them afterwards.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import RUN_PREFIX, TEST_ENV, Hub, engine, remove_test_objects  # noqa: E402

from stellars_hub import naming  # noqa: E402

LABS = 20
HANGING = 5
TIMEOUT = 5  # the default per-lab timeout
REPEAT = 5
ENV = {**TEST_ENV, "JUPYTERHUB_NOTIFICATIONS_TIMEOUT": str(TIMEOUT)}


def _broadcast(hub, recipients) -> tuple[float, dict]:
    start = time.perf_counter()
    r = hub.api(hub.admin_session(), "POST", "notifications/broadcast",
                json={"message": "bench", "recipients": recipients})
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

        one = _timed(hub, names[:1], 1)
        twenty = _timed(hub, names, LABS)
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
            ("broadcast to 20 labs / to 1 lab", twenty / one,
             f"median of {REPEAT}; 1 lab {one * 1000:.0f} ms, 20 labs {twenty * 1000:.0f} ms"),
            ("20 labs at once / 20 one at a time", twenty / one_at_a_time,
             "same 20 labs; one at a time = sum of 20 single-lab broadcasts"),
            (f"20 labs, {HANGING} hanging / one per-lab timeout", hanging / TIMEOUT,
             f"timeout {TIMEOUT} s, hanging labs paused with docker pause; median of 3 (sequential would be {HANGING})"),
        ]
    finally:
        hub.stop()
        remove_test_objects(RUN_PREFIX)


if __name__ == "__main__":
    for name, ratio, note in run():
        print(f"{name:<45} {ratio:>7.2f}  {note}")
