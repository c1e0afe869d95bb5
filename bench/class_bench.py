"""A class arrives: N users, logged in, all start their labs at once, as browsers would.

Each user does what the browser does after login: opens the home page (whose Restart/Volumes
state polling then runs as selfservice.js does: stellarsPoll's backoff, and the server's progress
stream while it starts; the page stays open in its tab), follows the Start link (GET /hub/spawn/{name}: JupyterHub starts the lab and redirects to the pending
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
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from .common import running_hub  # first: puts tests/ on the path

from harness import engine  # noqa: E402  (isort: skip)

from stellars_hub import naming
from stellars_hub.lab.config import Labs

from .pages_bench import _hub_pid
from .phases import container_cpu_seconds, hub_events, process_cpu_seconds

USERS = int(os.environ.get("BENCH_CLASS_USERS", "30"))
POLL_MIN_S, POLL_MAX_S = 3.0, 60.0  # selfservice.js: stellarsPoll(refresh, 3000, 60000)
LAB_DEADLINE = 900


def p95(values) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


class Browser:
    """One person's browser session on the hub."""

    def __init__(self, hub, name, session):
        self.hub, self.name, self.s = hub, name, session
        self.refused = 0  # 429 answers to the start
        self.done = threading.Event()
        self.wake = threading.Event()  # stellarsPoll's now(): look at once

    def poll_home(self):
        """The home page's state polling as selfservice.js does it (stellarsPoll): a look at once,
        then every 3 s while the state changes, the wait doubling up to 60 s while it does not;
        while the server starts, the page follows its progress stream instead, and looks again
        when the stream ends."""
        wait, last, stream = 0.0, None, None
        while True:
            self.wake.wait(wait)
            self.wake.clear()
            if self.done.is_set():
                return
            try:
                model = self.hub.api(self.s, "GET", f"users/{self.name}", timeout=60).json()
            except Exception:
                wait = min(POLL_MAX_S, max(wait, POLL_MIN_S) * 2)
                continue
            server = (model.get("servers") or {}).get("")
            running = bool(server and server.get("ready"))
            pending = model.get("pending") or (server or {}).get("pending")
            state = "running" if running else "stopped" if not server and not pending else "changing"
            if not running and pending == "spawn" and stream is None:  # one stream per start
                stream = threading.Thread(target=self._home_progress, daemon=True)
                stream.start()
            elif state != "changing":
                stream = None
            changed = state != last or (state == "changing" and not (stream and stream.is_alive()))
            last = state
            wait = POLL_MIN_S if changed else min(POLL_MAX_S, max(wait, POLL_MIN_S) * 2)

    def _home_progress(self):
        try:
            self.follow_progress()
        except Exception:
            pass  # the page falls back to polling
        self.wake.set()

    def start_lab(self) -> float:
        """Seconds from the click on Start until the lab's page is loaded. The home page stays
        open (in another tab) and polls meanwhile."""
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
            self.wake.set()

    def follow_progress(self):
        url = f"users/{self.name}/server/progress"
        with self.hub.api(
            self.s, "GET", url, headers={"Accept": "text/event-stream"}, stream=True, timeout=LAB_DEADLINE
        ) as r:
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
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
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


class Probe:
    """The unrelated user's calls (bench/probe.py in a process of its own) while in the block;
    as root it runs at nice -10."""

    def __init__(self, hub, name: str, token: str):
        self.args = [sys.executable, "-m", "bench.probe", hub.hub_url + f"api/users/{name}", token]
        self.calls: list[tuple[float, float]] = []  # (epoch at the call, seconds)

    def __enter__(self):
        # a person's browser runs on another machine than the labs; here it shares the CPUs
        # with them, so (as root) it runs at a higher priority, to time the hub, not its own wait
        raise_priority = (lambda: os.nice(-10)) if os.geteuid() == 0 else None
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
            preexec_fn=raise_priority,
        )
        return self

    def __exit__(self, *exc):
        out, _ = self.proc.communicate("", timeout=180)
        if self.proc.returncode:
            raise AssertionError(f"the latency probe failed (exit {self.proc.returncode})")
        self.calls = [tuple(c) for c in json.loads(out)]

    @property
    def latencies(self) -> list[float]:
        return [seconds for _, seconds in self.calls]


def _hub_handling(hub, name: str, since: float, until: float) -> list[float]:
    """The hub's own handling time (its access log, seconds) of the probe's calls in a window."""
    line = re.compile(rf"^200 GET \S*/hub/api/users/{re.escape(name)} .* ([\d.]+)ms$")
    return [
        float(m.group(1)) / 1000
        for t, msg in hub_events(hub.log_text(), since)
        if t <= until and (m := line.match(msg))
    ]


def _run_delay_s(pid: int) -> float:
    """Seconds the hub's main thread (its event loop) has waited for a CPU while runnable."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def _class(users: int, limit: str, **env) -> dict:
    """One class arriving on a hub of its own; what it measured, by name."""
    with running_hub(JUPYTERHUB_CONCURRENT_SPAWN_LIMIT=limit, **env) as hub, beside_labs(hub) as placement:
        hub.admin_session()
        with ThreadPoolExecutor(4) as pool:
            people = list(pool.map(lambda i: hub.new_user(f"c{i}-"), range(users + 2)))
        (other, _), (solo, solo_s) = people[:2]
        people = people[2:]

        one = Browser(hub, solo, solo_s).start_lab()
        hub.stop_server(solo_s, solo)

        probe_token = hub.token_for(other)
        hub_pid = _hub_pid(hub)
        with Probe(hub, other, probe_token) as idle_probe:
            waited0, t_idle = _run_delay_s(hub_pid), time.monotonic()
            time.sleep(20)  # ~190 calls: a p95 as steady as the burst's
            idle_waited = (_run_delay_s(hub_pid) - waited0) / (time.monotonic() - t_idle)

        browsers = [Browser(hub, n, s) for n, s in people]
        results: list = [None] * len(browsers)

        def attempt(i):
            try:
                results[i] = ("ok", browsers[i].start_lab())
            except Exception as exc:  # a failed start is what this bench counts
                results[i] = ("failed", str(exc))

        cpu0 = (_machine_cpu_seconds(), process_cpu_seconds(hub_pid))
        groups0 = _cpu_by_group(hub, hub_pid)
        with Probe(hub, other, probe_token) as busy_probe:
            waited0, t0 = _run_delay_s(hub_pid), time.monotonic()
            threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(browsers))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - t0
            busy_waited = (_run_delay_s(hub_pid) - waited0) / wall
        machine_cpu, hub_cpu = _machine_cpu_seconds() - cpu0[0], process_cpu_seconds(hub_pid) - cpu0[1]
        times = [r[1] for r in results if r[0] == "ok"]
        return {
            "placement": placement,
            "one": one,
            "wall": wall,
            "times": times,
            "last": max(times) if times else wall,
            "failures": [r[1] for r in results if r[0] != "ok"],
            "refused": sum(b.refused for b in browsers),
            "idle": idle_probe.latencies,
            "during": busy_probe.latencies,
            "idle_hub": _hub_handling(hub, other, idle_probe.calls[0][0], idle_probe.calls[-1][0] + 1),
            "during_hub": _hub_handling(hub, other, busy_probe.calls[0][0], busy_probe.calls[-1][0] + 1),
            "idle_waited": idle_waited,
            "busy_waited": busy_waited,
            "machine_cpu": machine_cpu,
            "hub_cpu": hub_cpu,
            "groups": {
                k: sum(v - groups0[k].get(pid, 0.0) for pid, v in procs.items())  # new processes: from 0
                for k, procs in _cpu_by_group(hub, hub_pid).items()
            },
            "lab_cpu": _labs_cpu_seconds([n for n, _ in people]),
        }


def run(users: int = USERS):
    limit = os.environ.get("JUPYTERHUB_CONCURRENT_SPAWN_LIMIT", str(Labs.concurrent_spawn_limit.default_value))
    m = _class(users, limit)
    one, last, times, wall = m["one"], m["last"], m["times"], m["wall"]
    note = (
        f"{m['placement']}; {users} users, concurrent_spawn_limit {limit}, {m['refused']} starts refused with "
        f"429 and retried; one spawn {one:.1f} s, last lab {last:.1f} s"
    )
    rows = [
        (
            f"class of {users}: last lab answers / {users} x one spawn",
            last / (users * one),
            note,
            None,
            {
                f"class of {users} (seconds)": {
                    "one spawn alone": one,
                    "first lab of the class": min(times) if times else float("nan"),
                    "median lab of the class": statistics.median(times) if times else float("nan"),
                    "last lab of the class": last,
                    "starts refused with 429 (retried)": f"{m['refused']}",
                    "unrelated user's API call, idle p95": p95(m["idle"]),
                    "unrelated user's API call, during the burst p95": p95(m["during"]),
                    "  of which the hub's own handling (its access log), idle p95": p95(m["idle_hub"]),
                    "  of which the hub's own handling (its access log), during p95": p95(m["during_hub"]),
                    "hub's event loop waiting for a CPU while runnable, idle": f"{m['idle_waited'] * 1000:.0f} ms per s",
                    "hub's event loop waiting for a CPU while runnable, during": f"{m['busy_waited'] * 1000:.0f} ms per s",
                },
                f"where the machine's CPU went from the first click to the last lab ({os.cpu_count()} cores, "
                f"{wall:.1f} s)": {
                    "all processes (from /proc/stat)": f"{m['machine_cpu']:.1f} s = {m['machine_cpu'] / wall * 100:.0f} % of one core",
                    f"the {users} labs (their cgroups; the lab's own start-up)": f"{m['lab_cpu']:.1f} s, {m['lab_cpu'] / users:.2f} s per lab"
                    if m["lab_cpu"] is not None
                    else "not readable",
                    "the hub process": f"{m['hub_cpu']:.1f} s = {m['hub_cpu'] / wall * 100:.0f} % of one core",
                    **{name: f"{used:.1f} s" for name, used in m["groups"].items()},
                    "the rest (other work on the machine, processes that came and went)": f"{m['machine_cpu'] - m['hub_cpu'] - (m['lab_cpu'] or 0) - sum(m['groups'].values()):.1f} s",
                },
            },
        ),
        (f"class of {users}: last lab answers / one spawn", last / one, note, None),
        (
            "unrelated user's API p95 during class start / idle",
            p95(m["during"]) / p95(m["idle"]),
            f"GET /hub/api/users/{{self}} from a process of its own, {len(m['during'])} calls during, "
            f"{len(m['idle'])} idle",
            "<= 1.5",
        ),
        (
            f"class of {users}: failed starts",
            float(len(m["failures"])),
            ("; ".join(m["failures"][:3]) or "none") + " (count, not a ratio)",
            "<= 0",
        ),
    ]
    cpus = os.cpu_count() or 1
    if (
        cpus > 1
        and "JUPYTERHUB_LAB_STARTS_AT_ONCE" not in os.environ
        and os.environ.get("BENCH_CLASS_COMPARE", "1") == "1"
    ):
        # the default keeps a CPU for the hub; the same class with one start per CPU, side by side
        f = _class(users, limit, JUPYTERHUB_LAB_STARTS_AT_ONCE=str(cpus))
        rows.append(
            (
                f"class of {users} with {cpus} starts at once (one per CPU): API p95 burst / idle",
                p95(f["during"]) / p95(f["idle"]),
                f"last lab {f['last']:.1f} s (default: {last:.1f} s); p95 {p95(f['during']) * 1000:.0f} ms vs "
                f"{p95(f['idle']) * 1000:.0f} ms; the hub's own handling p95 {p95(f['during_hub']) * 1000:.0f} ms "
                f"vs {p95(f['idle_hub']) * 1000:.0f} ms; its event loop waited for a CPU "
                f"{f['busy_waited'] * 1000:.0f} ms per s; {len(f['failures'])} failed starts",
                None,
            )
        )
    return rows


if __name__ == "__main__":
    import sys

    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else USERS):
        print(f"{row[0]:<55} {row[1]:>8.2f}  {row[2]}")
