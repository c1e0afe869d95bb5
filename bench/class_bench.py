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
from contextlib import contextmanager

from pathlib import Path

from .common import running_hub  # first: puts tests/ on the path

from harness import engine  # noqa: E402  (isort: skip)

from stellars_hub import naming

from .pages_bench import _hub_pid
from .phases import container_cpu_seconds, process_cpu_seconds


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


@contextmanager
def beside_labs(hub):
    """Run the hub where the compose deployment runs it: in a cgroup of its own beside the labs'
    containers (the hub's container), so the CPU weights of hub and labs decide who waits under
    contention. A harness hub is a host process otherwise (in its own session's autogroup, which
    weighs as much as all the labs together). Only with cgroup v1 and the engine's cgroupfs
    layout, as root; otherwise the hub stays where it is and the note says so."""
    parent = Path("/sys/fs/cgroup/cpu/docker")
    if os.environ.get("BENCH_HUB_BESIDE_LABS", "1") != "1" or os.geteuid() != 0 or not parent.is_dir():
        yield "hub as a host process"
        return
    group = parent / f"stellars-bench-hub-{os.getpid()}"
    group.mkdir(exist_ok=True)
    try:
        hub_pid = _hub_pid(hub)
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (int(entry) == hub_pid or _is_proxy_of(entry, hub)):
                try:
                    (group / "cgroup.procs").write_text(entry)
                except OSError:
                    pass
        yield f"hub in a cgroup beside the labs (weight {(group / 'cpu.shares').read_text().strip()})"
    finally:
        hub.stop()  # its processes leave the group, which can then go
        try:
            group.rmdir()
        except OSError:
            pass


def _machine_cpu_seconds() -> float:
    """CPU time every core has spent busy since boot (user, nice, system, irq, softirq, steal)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = fields[0] + fields[1] + fields[2] + sum(fields[5:8])
    return busy / os.sysconf("SC_CLK_TCK")


def _cpu_by_group(hub, hub_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the processes beside the hub and the labs, by who they are."""
    groups: dict[str, dict[int, float]] = {
        "the engine (dockerd, containerd and its shims)": {},
        "the hub's proxy and services": {},
        "this bench's browsers (its own process)": {},
    }
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        pgrp = int(stat.rsplit(")", 1)[1].split()[2])
        if comm.startswith(("dockerd", "containerd")):
            group = "the engine (dockerd, containerd and its shims)"
        elif pid != hub_pid and (pgrp == hub.proc.pid or _is_proxy_of(entry, hub)):
            group = "the hub's proxy and services"
        elif pid == os.getpid():
            group = "this bench's browsers (its own process)"
        else:
            continue
        try:
            groups[group][pid] = process_cpu_seconds(pid)
        except OSError:
            pass
    return groups


def _is_proxy_of(entry: str, hub) -> bool:
    """The hub's configurable-http-proxy (a session of its own), known by its API port."""
    try:
        cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(b"configurable-http-proxy" in c for c in cmd) and str(hub.api_port).encode() in cmd


def _labs_cpu_seconds(names) -> float | None:
    """CPU time the labs of ``names`` have used so far (their containers' cgroups)."""
    total = 0.0
    for name in names:
        try:
            cid = engine().containers.get(naming.container_name(name)).id
        except Exception:
            return None
        used = container_cpu_seconds(cid)
        if used is None:
            return None
        total += used
    return total


def _latency(hub, session, name) -> float:
    start = time.perf_counter()
    r = hub.api(session, "GET", f"users/{name}", timeout=120)
    assert r.status_code == 200, r.text
    return time.perf_counter() - start


def run(users: int = USERS):
    limit = os.environ.get("JUPYTERHUB_CONCURRENT_SPAWN_LIMIT", BY_NAME["JUPYTERHUB_CONCURRENT_SPAWN_LIMIT"].default)
    with running_hub(JUPYTERHUB_CONCURRENT_SPAWN_LIMIT=limit) as hub, beside_labs(hub) as placement:
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
        hub_pid = _hub_pid(hub)
        cpu0 = (_machine_cpu_seconds(), process_cpu_seconds(hub_pid))
        groups0 = _cpu_by_group(hub, hub_pid)
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
        machine_cpu, hub_cpu = _machine_cpu_seconds() - cpu0[0], process_cpu_seconds(hub_pid) - cpu0[1]
        groups = {k: sum(v - groups0[k].get(pid, 0.0) for pid, v in procs.items())  # new processes: from 0
                  for k, procs in _cpu_by_group(hub, hub_pid).items()}
        lab_cpu = _labs_cpu_seconds([n for n, _ in people])

    failures = [r[1] for r in results if r[0] != "ok"]
    times = [r[1] for r in results if r[0] == "ok"]
    last = max(times) if times else wall
    refused = sum(b.refused for b in browsers)
    note = (f"{placement}; {users} users, concurrent_spawn_limit {limit}, {refused} starts refused with 429 and retried; "
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
         },
         f"where the machine's CPU went from the first click to the last lab ({os.cpu_count()} cores, "
         f"{wall:.1f} s)": {
             "all processes (from /proc/stat)": f"{machine_cpu:.1f} s = {machine_cpu / wall * 100:.0f} % of one core",
             f"the {users} labs (their cgroups; the lab's own start-up)":
                 f"{lab_cpu:.1f} s, {lab_cpu / users:.2f} s per lab" if lab_cpu is not None else "not readable",
             "the hub process": f"{hub_cpu:.1f} s = {hub_cpu / wall * 100:.0f} % of one core",
             **{name: f"{used:.1f} s" for name, used in groups.items()},
             "the rest (other work on the machine, processes that came and went)":
                 f"{machine_cpu - hub_cpu - (lab_cpu or 0) - sum(groups.values()):.1f} s",
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
