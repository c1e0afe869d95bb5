"""A class arrives: N users, logged in, all start their labs at once, as browsers would.

Each user does what the browser does after login: opens the home page (whose Restart/Volumes
state polling then runs as selfservice.js does while a start is in progress: every 3 s), follows
the Start link (GET /hub/spawn/{name}: JupyterHub starts the lab and redirects to the pending
page), reads the progress event stream until ready, then opens the lab (proxy, the lab's OAuth
round trip with the hub, the lab's page). A start refused with 429 (JupyterHub's
concurrent_spawn_limit) is retried after the Retry-After the hub gives, as a person would click
again; it is counted, not a failure.

Meanwhile an unrelated user keeps calling the hub API; its p95 latency is compared with idle.
N is BENCH_CLASS_USERS (default 30); the spawn limit is JUPYTERHUB_CONCURRENT_SPAWN_LIMIT.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .common import running_hub


from stellars_hub.settings import BY_NAME

USERS = int(os.environ.get("BENCH_CLASS_USERS", "30"))
POLL_S = 3.0  # selfservice.js while a start is in progress
LAB_DEADLINE = 900


def p95(values) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


class Browser:
    """One person's browser session on the hub."""

    def __init__(self, hub, name, session):
        self.hub, self.name, self.s = hub, name, session
        self.refused = 0  # 429 answers to the start
        self.done = threading.Event()

    def poll_home(self):
        while not self.done.wait(POLL_S):
            try:
                self.hub.api(self.s, "GET", f"users/{self.name}", timeout=60)
            except Exception:
                pass

    def start_lab(self) -> float:
        """Seconds from the click on Start until the lab's page is loaded."""
        hub, s = self.hub, self.s
        s.get(hub.hub_url + "home", timeout=120)
        poller = threading.Thread(target=self.poll_home, daemon=True)
        poller.start()
        t0 = time.monotonic()
        try:
            while True:
                r = s.get(hub.hub_url + f"spawn/{self.name}", timeout=300)
                if r.status_code != 429:
                    break
                self.refused += 1
                time.sleep(float(r.headers.get("Retry-After", "5")))
            if r.status_code >= 400:
                raise AssertionError(f"start of {self.name}: HTTP {r.status_code}")
            self.follow_progress()
            deadline = time.monotonic() + LAB_DEADLINE
            while time.monotonic() < deadline:
                r = s.get(hub.base + f"user/{self.name}/lab", timeout=120)
                if r.status_code == 200 and "JupyterLab" in r.text:
                    return time.monotonic() - t0
                if r.status_code == 424:  # the hub says the server is not running: it failed
                    raise AssertionError(f"lab of {self.name} stopped after it started")
                time.sleep(0.5)
            raise AssertionError(f"lab of {self.name} did not load its page")
        finally:
            self.done.set()

    def follow_progress(self):
        url = f"users/{self.name}/server/progress"
        with self.hub.api(self.s, "GET", url, headers={"Accept": "text/event-stream"}, stream=True,
                          timeout=LAB_DEADLINE) as r:
            if r.status_code != 200:
                raise AssertionError(f"progress of {self.name}: HTTP {r.status_code}")
            for line in r.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event.get("ready"):
                        return
                    if event.get("failed"):
                        raise AssertionError(f"start of {self.name} failed: {event.get('message')}")
        # the stream ends at once when the lab was already up by the time it was opened


def _latency(hub, session, name) -> float:
    start = time.perf_counter()
    r = hub.api(session, "GET", f"users/{name}", timeout=120)
    assert r.status_code == 200, r.text
    return time.perf_counter() - start


def run(users: int = USERS):
    limit = os.environ.get("JUPYTERHUB_CONCURRENT_SPAWN_LIMIT", BY_NAME["JUPYTERHUB_CONCURRENT_SPAWN_LIMIT"].default)
    with running_hub(JUPYTERHUB_CONCURRENT_SPAWN_LIMIT=limit) as hub:
        hub.admin_session()
        with ThreadPoolExecutor(4) as pool:
            people = list(pool.map(lambda i: hub.new_user(f"c{i}-"), range(users + 2)))
        (other, other_s), (solo, solo_s) = people[:2]
        people = people[2:]

        one = Browser(hub, solo, solo_s).start_lab()
        hub.stop_server(solo_s, solo)

        idle = []
        for _ in range(60):
            idle.append(_latency(hub, other_s, other))
            time.sleep(0.1)

        browsers = [Browser(hub, n, s) for n, s in people]
        results: list = [None] * len(browsers)
        finished = threading.Event()
        during: list[float] = []

        def sample():
            while not finished.is_set():
                during.append(_latency(hub, other_s, other))
                time.sleep(0.1)

        def attempt(i):
            try:
                results[i] = ("ok", browsers[i].start_lab())
            except Exception as exc:  # a failed start is what this bench counts
                results[i] = ("failed", str(exc))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.monotonic()
        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(browsers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        finished.set()
        sampler.join()
        wall = time.monotonic() - t0

    failures = [r[1] for r in results if r[0] != "ok"]
    times = [r[1] for r in results if r[0] == "ok"]
    last = max(times) if times else wall
    refused = sum(b.refused for b in browsers)
    note = (f"{users} users, concurrent_spawn_limit {limit}, {refused} starts refused with 429 and retried; "
            f"one spawn {one:.1f} s, last lab {last:.1f} s")
    return [
        (f"class of {users}: last lab answers / {users} x one spawn", last / (users * one), note, None,
         {f"class of {users} (seconds)": {
             "one spawn alone": one,
             "first lab of the class": min(times) if times else float("nan"),
             "median lab of the class": statistics.median(times) if times else float("nan"),
             "last lab of the class": last,
             "starts refused with 429 (retried)": f"{refused}",
             "unrelated user's API call, idle p95": p95(idle),
             "unrelated user's API call, during the burst p95": p95(during) if during else float("nan"),
         }}),
        (f"class of {users}: last lab answers / one spawn", last / one, note, None),
        ("unrelated user's API p95 during class start / idle", p95(during) / p95(idle),
         f"GET /hub/api/users/{{self}}, {len(during)} samples during, {len(idle)} idle", "<= 1.5"),
        (f"class of {users}: failed starts", float(len(failures)),
         ("; ".join(failures[:3]) or "none") + " (count, not a ratio)", "<= 0"),
    ]


if __name__ == "__main__":
    import sys

    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else USERS):
        print(f"{row[0]:<55} {row[1]:>8.2f}  {row[2]}")
