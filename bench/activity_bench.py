"""Benchmark of the activity monitor (not a test): ratios, never absolute times.

``run()`` returns rows ``(name, ratio, note)``:
- cost of GET /hub/api/activity with 1000 users vs 10 users, each holding a full retention
  window of samples (7 days at one sample per 10 minutes = 1008 samples per user);
- engine calls made by 10 concurrent refreshes vs one refresh (1.0 = one round), counted by
  a proxy in front of the engine socket;
- latency of another user's hub request while 10 admins refresh the page every second, vs idle.

Run alone: ``.venv/bin/python bench/activity_bench.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import requests  # noqa: E402
from enginegate import EngineGate  # noqa: E402
from harness import TEST_ENV, Hub, remove_test_objects, unique_name  # noqa: E402

from stellars_hub.activity.monitor import REPORT_TTL  # noqa: E402
from stellars_hub.activity.store import FILE_NAME, SampleStore  # noqa: E402

_LAST: dict[str, dict] = {}  # what the last measured request saw, for the breakdown

INTERVAL = 600
RETENTION_DAYS = 7
ENV = {
    **TEST_ENV,
    "JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL": str(INTERVAL),
    "JUPYTERHUB_ACTIVITYMON_RETENTION_DAYS": str(RETENTION_DAYS),
}


def _hub_with_users(root: Path, users: int, extra_env: dict | None = None) -> tuple[Hub, list[str]]:
    """A hub whose database holds ``users`` users, each with a full retention window of samples.
    Users and samples are written while the hub is stopped (creating 1000 users through the
    API would measure the authenticator, not the monitor)."""
    from jupyterhub import orm

    hub = Hub(data_dir=root, env={**ENV, **(extra_env or {})})
    hub.start()
    hub.admin_session()
    hub.stop()
    names = [unique_name(f"b{i}-") for i in range(users)]
    db = orm.new_session_factory(f"sqlite:///{root / 'jupyterhub.sqlite'}")()
    db.add_all(orm.User(name=n) for n in names)
    db.commit()
    db.close()
    store = SampleStore(root / FILE_NAME)
    now = time.time()
    per_user = RETENTION_DAYS * 86400 // INTERVAL

    async def fill():  # the store answers awaitables and queues its work from a running loop
        for k in range(per_user):
            ts = now - (per_user - k) * INTERVAL
            await store.record(
                ts, ((n, "", (i + k) % 3 == 0) for i, n in enumerate(names + [hub.admin])), prune_before=0
            )

    asyncio.run(fill())
    store.close()
    hub._admin_session = None
    hub.start(timeout=120)
    hub.admin_session()
    return hub, names


def _median_get(hub: Hub, session, rounds: int = 12, hub_writes: bool = False) -> float:
    """Median time of a report that is really built (requests spaced beyond REPORT_TTL). With
    ``hub_writes`` the hub commits a change to its database before each request, so the
    monitor reads the hub's users and servers again (on a quiet hub it skips that)."""
    hub.api(session, "GET", "activity")  # warm-up: scores and volume sizes cached
    times = []
    since = time.time()
    for _ in range(rounds):
        time.sleep(REPORT_TTL + 0.1)
        if hub_writes:  # a real write: the admin's own record changes (and is committed)
            r = hub.api(session, "PATCH", f"users/{hub.admin}", json={"admin": True})
            assert r.status_code == 200, r.text
        start = time.perf_counter()
        r = hub.api(session, "GET", "activity")
        times.append(time.perf_counter() - start)
        assert r.status_code == 200, r.text
    _LAST["median_get"] = {"bytes": len(r.content), "hub_ms": _hub_side_ms(hub, since)}
    return statistics.median(times)


def _hub_side_ms(hub: Hub, since: float) -> float:
    """Median of the hub's own handling time of the activity requests (its access log)."""
    from bench.phases import hub_events

    found = [
        float(m.rsplit(" ", 1)[1].rstrip("ms"))
        for _, m in hub_events(hub.log_text(), since)
        if m.startswith("200 GET ") and "/hub/api/activity " in m and m.endswith("ms")
    ]
    return statistics.median(found) if found else float("nan")


def _latency(url: str, token: str, rounds: int = 40, spacing: float = 0.3) -> float:
    """Median latency of ``rounds`` requests ``spacing`` s apart (12 s: spans a statistics round)."""
    times = []
    for _ in range(rounds):
        time.sleep(spacing)
        start = time.perf_counter()
        r = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=60)
        times.append(time.perf_counter() - start)
        assert r.status_code == 200, r.text
    return statistics.median(times)


def run() -> list[tuple]:
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="activity-bench-") as tmpname:
        tmp = Path(tmpname)
        small, _ = _hub_with_users(tmp / "small", 10)
        try:
            t_small = _median_get(small, small.admin_session())
            small_side = _LAST["median_get"]
        finally:
            small.stop()

        proxy = EngineGate(str(tmp / "engine.sock")).open()
        big, names = _hub_with_users(tmp / "big", 1000, {"DOCKER_HOST": proxy.docker_host})
        try:
            admin = big.admin_session()
            t_big = _median_get(big, admin)
            big_side = _LAST["median_get"]
            t_big_written = _median_get(big, admin, hub_writes=True)
            written_side = _LAST["median_get"]
            rows.append(
                (
                    "activity: GET /hub/api/activity, 1000 vs 10 users with full retention",
                    t_big / t_small,
                    f"{1000 * RETENTION_DAYS * 86400 // INTERVAL} vs {10 * RETENTION_DAYS * 86400 // INTERVAL} samples",
                    "<= 1.5",
                    {
                        "GET /hub/api/activity (medians)": {
                            "10 users: at the client": t_small,
                            "10 users: the hub's own handling (its access log)": small_side["hub_ms"] / 1000,
                            "10 users: response": f"{small_side['bytes'] / 1024:.0f} KiB",
                            "1000 users: at the client": t_big,
                            "1000 users: the hub's own handling (its access log)": big_side["hub_ms"] / 1000,
                            "1000 users: response": f"{big_side['bytes'] / 1024:.0f} KiB",
                            "1000 users, the hub wrote between refreshes: at the client": t_big_written,
                            "1000 users, the hub wrote between refreshes: the hub's own handling": written_side[
                                "hub_ms"
                            ]
                            / 1000,
                        }
                    },
                )
            )

            labs = names[:3]
            for name in labs:
                r = big.api(admin, "POST", f"users/{name}/server")
                assert r.status_code in (201, 202), r.text
            for name in labs:
                big.wait_server(admin, name, ready=True)

            def one_refresh():
                assert big.api(admin, "GET", "activity").status_code == 200

            time.sleep(11)  # statistics cache (10 s) expired
            before = proxy.count("/stats")
            one_refresh()
            single = proxy.count("/stats") - before
            time.sleep(11)
            before_all, before = proxy.count(), proxy.count("/stats")
            with ThreadPoolExecutor(10) as pool:
                list(pool.map(lambda _: one_refresh(), range(10)))
            concurrent = proxy.count("/stats") - before
            rows.append(
                (
                    "activity: engine stats calls, 10 concurrent refreshes vs 1 refresh",
                    concurrent / single if single else float("nan"),
                    f"{concurrent} calls for {len(labs)} running labs; "
                    f"{proxy.count() - before_all} engine requests in all",
                )
            )

            other, _ = big.new_user("other")  # a regular user with the default roles
            token = big.token_for(other)
            url = big.hub_url + f"api/users/{other}"
            idle = _latency(url, token)
            stop = threading.Event()
            admin_token = big.token_for(big.admin)

            def refresher():  # one admin refreshing every second (the page itself does every 30 s)
                while not stop.is_set():
                    requests.get(
                        big.hub_url + "api/activity", headers={"Authorization": f"token {admin_token}"}, timeout=60
                    )
                    stop.wait(1.0)

            threads = [threading.Thread(target=refresher) for _ in range(10)]
            for t in threads:
                t.start()
            try:
                time.sleep(1)
                busy = _latency(url, token)
            finally:
                stop.set()
                for t in threads:
                    t.join()
            rows.append(
                (
                    "activity: another user's hub request while 10 admins refresh, vs idle",
                    busy / idle,
                    "1000 users, 3 running labs, 10 admins refreshing every second "
                    "(statistics rounds included); median of 40 requests",
                    "<= 1.2",
                )
            )
        finally:
            big.stop()
            proxy.close()
            remove_test_objects()
    return rows


if __name__ == "__main__":
    for name, ratio, note, *_ in run():
        print(f"{name:<75} {ratio:8.2f}  {note}")
