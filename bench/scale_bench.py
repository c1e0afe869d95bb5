"""A hundred labs on one host: started one after another with the default settings (each lab on
its own bridge network, its subnet from JUPYTERHUB_LAB_SUBNET_POOL), then what the hub's own
work costs with them running, side by side with none (or ten) running.

Rows: labs started out of BENCH_SCALE_LABS (100); an unrelated user's API p95 with the labs /
with none; the activity statistics round's CPU with all labs / with ten (and the age of the
newest figures the activity API serves; the engine's own statistics, one call per lab, shown
beside it); a broadcast to every lab through the hub / the same POST sent straight to the labs;
JupyterHub's proxy route check and the idle culler's round with all labs / with ten; hub RSS
with the labs / with none; the memory of an idle lab of the small image (and of the DS image,
``stellars-lab-ds:dev``, when it exists).

The hub runs on this machine's host, as the isolation tests run it: it reaches each lab on its
bridge network, the labs reach it through their gateway (``host-gateway``). Run it alone:
``.venv/bin/python -m bench scale_bench``; it needs about 11 GB of memory for 100 small labs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .common import running_hub  # first: puts tests/ on the path

from harness import RUN_PREFIX, engine  # noqa: E402  (isort: skip)

from stellars_hub import naming
from stellars_hub.backends.docker.runtime import DockerRuntime
from stellars_hub.labnotify import INGEST_PATH, payload

from .class_bench import Probe, _run_delay_s, p95
from .memory_bench import _rss_bytes
from .pages_bench import _hub_pid
from .phases import container_cpu_seconds, hub_events, process_cpu_seconds

LABS = int(os.environ.get("BENCH_SCALE_LABS", "100"))
FEW = 10
NET = f"{RUN_PREFIX}scale"
DS_IMAGE = os.environ.get("BENCH_DS_IMAGE", "stellars-lab-ds:dev")
ROUNDS = 20
REPEAT = 9
ENV = {
    "JUPYTERHUB_NETWORK_NAME": NET,  # not host networking: a bridge network per lab (the default)
    "JUPYTERHUB_HUB_HOST": socket.gethostname(),  # labs reach the host's hub through their gateway
    "JUPYTERHUB_LAB_NETWORK_ISOLATION": "1",
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",  # its session store and settings, as the culler reads them
}
# JupyterHub's route check runs with each activity poll of the proxy (default every 300 s): every
# 15 s here, so each phase sees some; both phases carry it alike
HUB_ARGS = ["--JupyterHub.last_activity_interval=15"]


class HubLoad:
    """The hub's CPU use and its event loop's wait for a CPU, per second, while in the block."""

    def __enter__(self):
        self.t, self.cpu, self.waited = time.monotonic(), process_cpu_seconds(self.pid), _run_delay_s(self.pid)
        return self

    def __init__(self, pid: int):
        self.pid = pid

    def __exit__(self, *exc):
        span = time.monotonic() - self.t
        self.cpu_per_s = (process_cpu_seconds(self.pid) - self.cpu) / span
        self.wait_per_s = (_run_delay_s(self.pid) - self.waited) / span
        self.since, self.until = time.time() - span, time.time()


def _engine_cpu() -> float:
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if stat[stat.index("(") + 1 : stat.rindex(")")].startswith(("dockerd", "containerd")):
                fields = stat.rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _start_one(hub, name, session) -> str | None:
    """Start a lab through the API and wait until it is ready; None, or why it failed."""
    r = hub.api(session, "POST", f"users/{name}/server", timeout=300)
    if r.status_code not in (201, 202):
        return f"HTTP {r.status_code}: {r.text[:200]}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        server = (hub.api(session, "GET", f"users/{name}").json().get("servers") or {}).get("")
        if server and server.get("ready"):
            return None
        if not server:
            return "the start failed (see the hub's log)"
        time.sleep(0.3)
    return "not ready within 300 s"


def _lab_target(name: str, base_url: str) -> str:
    info = engine().api.inspect_container(naming.container_name(name))
    ip = info["NetworkSettings"]["Networks"][f"{NET}-{naming.escape_name(name)}"]["IPAddress"]
    return f"http://{ip}:8888{base_url}user/{name}/{INGEST_PATH}"


def _stats_round(runtime, names, rounds=ROUNDS) -> dict:
    """The activity statistics round as the hub runs it (runtime.container_stats), ``rounds``
    times after a warm-up: CPU of this process and of the engine per round, wall per round."""

    async def go():
        await runtime.container_stats(names)  # warm-up: first readings, the name listing
        cpu0, eng0, times0 = time.process_time(), _engine_cpu(), os.times()
        walls = []
        for _ in range(rounds):
            await asyncio.sleep(1.1)  # the CPU share is taken over at least a second
            t = time.perf_counter()
            stats = await runtime.container_stats(names)
            walls.append(time.perf_counter() - t)
            assert all(stats[n] is not None for n in names), "a lab without figures"
        times1 = os.times()
        return {
            "cpu": (time.process_time() - cpu0) / rounds,
            "engine": (_engine_cpu() - eng0) / rounds,
            "wall": statistics.median(walls),
            "kernel": (times1.system - times0.system) / rounds,
        }

    return asyncio.run(go())


def _hub_handling_in(log_text: str, name: str, window) -> list[float]:
    """The hub's own handling time of the unrelated user's calls within a HubLoad's window."""
    line = re.compile(rf"^200 GET \S*/hub/api/users/{re.escape(name)} .* ([\d.]+)ms$")
    return [
        float(m.group(1)) / 1000
        for t, msg in hub_events(log_text, window.since)
        if t <= window.until and (m := line.match(msg))
    ]


def _engine_stats_round(names) -> dict:
    """The same figures from the engine's statistics call, one per lab (what the hub did before)."""
    runtime = DockerRuntime()

    async def go():
        cpu0, eng0, t = time.process_time(), _engine_cpu(), time.perf_counter()
        stats = await runtime._engine_stats(names)
        assert all(stats[n] is not None for n in names)
        return {"cpu": time.process_time() - cpu0, "engine": _engine_cpu() - eng0, "wall": time.perf_counter() - t}

    return asyncio.run(go())


def _stats_age(hub, seconds: float = 25) -> list[float]:
    """Age of the newest statistics the activity API serves (its ``timestamp`` - ``stats_timestamp``)
    while an admin keeps the page open (a refresh every second)."""
    from datetime import datetime

    admin, ages = hub.admin_session(), []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        body = hub.api(admin, "GET", "activity").json()
        if body.get("stats_timestamp"):
            at = datetime.fromisoformat(body["timestamp"].rstrip("Z"))
            ages.append((at - datetime.fromisoformat(body["stats_timestamp"].rstrip("Z"))).total_seconds())
        time.sleep(1)
    return ages


def _culler_round(hub, token: str, hub_pid: int) -> dict:
    """One idle-culler pass as the culler service runs it (jupyterhub-idle-culler with the
    platform's arbiter; nothing is idle long enough to be stopped): wall, and the hub's CPU."""
    from jupyterhub_idle_culler import cull_idle

    from stellars_hub import settings as settings_mod
    from stellars_hub.hubsettings import StellarsHub
    from stellars_hub.session import deadline as dl
    from stellars_hub.session.config import IdleCuller
    from stellars_hub.session.culler import Arbiter
    from stellars_hub.session.store import ExtensionStore

    # as the culler service reads them (stellars_hub.session.culler.main)
    s = settings_mod.load([StellarsHub, IdleCuller], {**hub.env, "JUPYTERHUB_DATA_DIR": str(hub.data_dir)})
    culler = s(IdleCuller)
    arbiter = Arbiter(dl.Policy.from_config(culler), ExtensionStore(hub.data_dir / ExtensionStore.FILE_NAME), warn=None)

    async def once():
        cpu0, t = process_cpu_seconds(hub_pid), time.perf_counter()
        quiet = logging.getLogger("bench.culler")
        quiet.setLevel(logging.WARNING)
        await cull_idle(
            url=hub.hub_url + "api",
            api_token=token,
            inactive_limit=culler.timeout,
            logger=quiet,
            max_age=0,
            cull_arbiter=arbiter,
            concurrency=10,
        )
        return time.perf_counter() - t, process_cpu_seconds(hub_pid) - cpu0

    runs = [asyncio.run(once()) for _ in range(3)]
    return {"wall": statistics.median(r[0] for r in runs), "hub_cpu": statistics.median(r[1] for r in runs)}


def _route_checks(hub) -> tuple[float, int]:
    """Sum and count of JupyterHub's check_routes_duration_seconds (its own metric)."""
    text = hub.admin_session().get(hub.hub_url + "metrics", timeout=60).text
    values = {}
    for line in text.splitlines():
        if line.startswith(
            ("jupyterhub_check_routes_duration_seconds_sum", "jupyterhub_check_routes_duration_seconds_count")
        ):
            key, value = line.split()
            values[key.rsplit("_", 1)[1]] = float(value)
    return values.get("sum", 0.0), int(values.get("count", 0))


def _route_check_during(hub, seconds: float = 35) -> float:
    s0, c0 = _route_checks(hub)
    time.sleep(seconds)
    s1, c1 = _route_checks(hub)
    return (s1 - s0) / (c1 - c0) if c1 > c0 else float("nan")


def _broadcast(hub, names) -> float:
    t = time.perf_counter()
    r = hub.api(
        hub.admin_session(),
        "POST",
        "notifications/broadcast",
        json={"message": "bench", "recipients": names},
        timeout=300,
    )
    elapsed = time.perf_counter() - t
    assert r.status_code == 200 and r.json()["successful"] == len(names), r.text[:500]
    return elapsed


def _direct(urls: dict[str, str], tokens: dict[str, str]) -> float:
    """The ingest POST sent by this process straight to every lab, as many at once as the hub's
    broadcast sends (32), with the hub's HTTP client."""
    from tornado.httpclient import HTTPRequest

    from stellars_hub.labnotify import http_client
    from stellars_hub.notifications.broadcast import CONCURRENCY

    body = json.dumps(payload("bench direct"))

    async def once():
        client = http_client(CONCURRENCY)
        try:
            t = time.perf_counter()
            await asyncio.gather(
                *(
                    client.fetch(
                        HTTPRequest(
                            url,
                            method="POST",
                            body=body,
                            request_timeout=30,
                            headers={"Authorization": f"token {tokens[n]}", "Content-Type": "application/json"},
                        )
                    )
                    for n, url in urls.items()
                )
            )
            return time.perf_counter() - t
        finally:
            client.close()

    return asyncio.run(once())


def _lab_memory(names) -> float:
    """Median memory of idle labs (their cgroups, without reclaimable page cache), in MiB."""

    async def go():
        return await DockerRuntime().container_stats([naming.container_name(n) for n in names])

    stats = asyncio.run(go())
    return statistics.median(s.memory_bytes for s in stats.values() if s) / 2**20


def _ds_lab_memory(count: int = 3) -> float | None:
    try:
        engine().images.get(DS_IMAGE)
    except Exception:
        return None
    with running_hub(
        extra_args=(), **{**ENV, "JUPYTERHUB_NOTEBOOK_IMAGE": DS_IMAGE, "JUPYTERHUB_NETWORK_NAME": f"{NET}ds"}
    ) as hub:
        people = [hub.new_user(f"ds{i}-") for i in range(count)]
        for name, session in people:
            failed = _start_one(hub, name, session)
            if failed:
                raise AssertionError(f"DS lab of {name}: {failed}")
        time.sleep(30)  # idle: its services started, nothing open
        return _lab_memory([n for n, _ in people])


def run(labs: int = LABS):
    with running_hub(extra_args=HUB_ARGS, **ENV) as hub:
        admin = hub.admin_session()
        with ThreadPoolExecutor(4) as pool:
            people = list(pool.map(lambda i: hub.new_user(f"s{i}-"), range(labs + 1)))
        (other, _), people = people[0], people[1:]
        names = [n for n, _ in people]
        hub_pid = _hub_pid(hub)
        probe_token = hub.token_for(other)
        culler_token = hub.token_for(hub.admin)

        # none running
        time.sleep(5)
        rss_none = _rss_bytes(hub_pid)
        with Probe(hub, other, probe_token) as idle_probe, HubLoad(hub_pid) as idle_load:
            route_none = _route_check_during(hub)

        # one after another, as people arrive
        failures, start_times = {}, []
        runtime = DockerRuntime()
        few = None
        for i, (name, session) in enumerate(people, 1):
            t = time.monotonic()
            failed = _start_one(hub, name, session)
            start_times.append(time.monotonic() - t)
            if failed:
                failures[name] = failed
            if i == FEW:
                few = {
                    "stats": _stats_round(runtime, [naming.container_name(n) for n in names[:FEW]]),
                    "culler": _culler_round(hub, culler_token, hub_pid),
                }
        started = [n for n in names if n not in failures]
        assert few is not None, f"the bench needs at least {FEW} labs"

        # all running
        time.sleep(20)  # the last labs settle
        with Probe(hub, other, probe_token) as busy_probe, HubLoad(hub_pid) as busy_load:
            route_all = _route_check_during(hub)
        rss_all = _rss_bytes(hub_pid)
        containers = [naming.container_name(n) for n in started]
        stats_all = _stats_round(runtime, containers)
        ages = _stats_age(hub)
        culler_all = _culler_round(hub, culler_token, hub_pid)
        engine_way = _engine_stats_round(containers)

        base_url = "/" + hub.hub_url.split("/", 3)[3].rsplit("hub/", 1)[0].lstrip("/")
        urls = {n: _lab_target(n, base_url) for n in started}
        tokens = {
            n: hub.token_for(n, scopes=[f"access:servers!server={n}/", f"custom:labaccess:enter!user={n}"])
            for n in started
        }
        _broadcast(hub, started)  # warm-up: connections, the hub's tokens
        _direct(urls, tokens)  # warm-up: the labs check these tokens with the hub once
        ids = [engine().api.inspect_container(naming.container_name(n))["Id"] for n in started]

        def labs_cpu() -> float:
            return sum(container_cpu_seconds(i) or 0.0 for i in ids)

        through, direct, hub_cpu, labs_through, labs_direct, bench_cpu = [], [], [], [], [], []
        t_broadcasts = time.time()
        for _ in range(REPEAT):  # interleaved, so both see the same load
            c0, l0 = process_cpu_seconds(hub_pid), labs_cpu()
            through.append(_broadcast(hub, started))
            hub_cpu.append(process_cpu_seconds(hub_pid) - c0)
            labs_through.append(labs_cpu() - l0)
            l0, b0 = labs_cpu(), time.process_time()
            direct.append(_direct(urls, tokens))
            labs_direct.append(labs_cpu() - l0)
            bench_cpu.append(time.process_time() - b0)
        handled = [
            float(m.group(1)) / 1000
            for _, msg in hub_events(hub.log_text(), t_broadcasts)
            if (m := re.match(r"^200 POST \S*/hub/api/notifications/broadcast .* ([\d.]+)ms$", msg))
        ]
        lab_mib = _lab_memory(started)
        log_text = hub.log_text()
        admin.close()

    ds_mib = _ds_lab_memory()
    n = len(started)
    idle_p95, busy_p95 = p95(idle_probe.latencies), p95(busy_probe.latencies)
    idle_hub = _hub_handling_in(log_text, other, idle_load)
    busy_hub = _hub_handling_in(log_text, other, busy_load)
    b_hub, b_direct = statistics.median(through), statistics.median(direct)
    load = os.getloadavg()
    return [
        (
            f"labs started one after another (own bridge networks), out of {labs}",
            float(n),
            f"{len(failures)} failed"
            + (f": {next(iter(failures.values()))}" if failures else "")
            + f"; a start took {statistics.median(start_times):.1f} s (median), {max(start_times):.1f} s at most",
            f">= {labs}",
            {
                f"starts ({labs} labs, one after another)": {
                    "median start (API call until ready)": statistics.median(start_times),
                    "first 10 starts, median": statistics.median(start_times[:10]),
                    "last 10 starts, median": statistics.median(start_times[-10:]),
                    "failed starts": f"{len(failures)}",
                }
            },
        ),
        (
            f"unrelated user's API p95, {n} labs / none",
            busy_p95 / idle_p95,
            f"{busy_p95 * 1000:.1f} ms vs {idle_p95 * 1000:.1f} ms; GET /hub/api/users/{{self}} from a process of "
            f"its own, {len(busy_probe.latencies)} and {len(idle_probe.latencies)} calls",
            "<= 1.3",
            {
                f"the unrelated user's calls, {n} labs vs none": {
                    "p95 at the client, none": idle_p95,
                    f"p95 at the client, {n} labs": busy_p95,
                    "  the hub's own handling p95 (its access log), none": p95(idle_hub),
                    f"  the hub's own handling p95 (its access log), {n} labs": p95(busy_hub),
                    "  the hub's own handling median, none": statistics.median(idle_hub) if idle_hub else float("nan"),
                    f"  the hub's own handling median, {n} labs": statistics.median(busy_hub)
                    if busy_hub
                    else float("nan"),
                    "the hub's CPU, none": f"{idle_load.cpu_per_s * 1000:.0f} ms per s",
                    f"the hub's CPU, {n} labs": f"{busy_load.cpu_per_s * 1000:.0f} ms per s",
                    "the hub's event loop waiting for a CPU, none": f"{idle_load.wait_per_s * 1000:.0f} ms per s",
                    f"the hub's event loop waiting for a CPU, {n} labs": f"{busy_load.wait_per_s * 1000:.0f} ms per s",
                    "load average (1 min) at the end": f"{load[0]:.2f}",
                }
            },
        ),
        (
            f"activity statistics: CPU per round, {n} labs / {FEW}",
            stats_all["cpu"] / few["stats"]["cpu"],
            f"{stats_all['cpu'] * 1000:.1f} ms vs {few['stats']['cpu'] * 1000:.1f} ms of the hub's CPU per round "
            f"(cgroup files); newest figures the activity API served at most {max(ages):.1f} s old",
            "<= 3",
            {
                f"statistics of {n} labs, one round": {
                    "cgroup files: the hub's CPU": stats_all["cpu"],
                    "  of which in the kernel (producing the cgroup files)": stats_all["kernel"],
                    "  per lab beyond the first ten": f"{(stats_all['cpu'] - few['stats']['cpu']) / max(1, n - FEW) * 1e6:.0f} µs",
                    "cgroup files: the engine's CPU": stats_all["engine"],
                    "cgroup files: wall": stats_all["wall"],
                    f"cgroup files, {FEW} labs: the hub's CPU": few["stats"]["cpu"],
                    f"  of which in the kernel, {FEW} labs": few["stats"]["kernel"],
                    f"cgroup files, {FEW} labs: wall": few["stats"]["wall"],
                    "the engine's statistics call per lab (before): the hub's CPU": engine_way["cpu"],
                    "the engine's statistics call per lab (before): the engine's CPU": engine_way["engine"],
                    "the engine's statistics call per lab (before): wall": engine_way["wall"],
                    "age of the newest figures the activity API served (median, max)": f"{statistics.median(ages):.1f} s, {max(ages):.1f} s",
                }
            },
        ),
        (
            f"broadcast to {n} labs through the hub / the same POST straight to them",
            b_hub / b_direct,
            f"{b_hub * 1000:.0f} ms vs {b_direct * 1000:.0f} ms, median of {REPEAT}; the hub's CPU per broadcast "
            f"{statistics.median(hub_cpu) * 1000:.0f} ms",
            "<= 1.2",
            {
                f"broadcast to {n} labs (median of {REPEAT}, interleaved)": {
                    "through the hub (the bench's wall)": b_hub,
                    "  the hub's own handling (its access log)": statistics.median(handled)
                    if handled
                    else float("nan"),
                    "  the hub process's CPU": statistics.median(hub_cpu),
                    "  the labs' CPU (their cgroups), through the hub": statistics.median(labs_through),
                    "straight to the labs (the hub's HTTP client, 32 at once)": b_direct,
                    "  the sending process's CPU (the bench)": statistics.median(bench_cpu),
                    "  the labs' CPU (their cgroups), straight": statistics.median(labs_direct),
                    f"least wall time of the labs' own work on {os.cpu_count()} cores": statistics.median(labs_direct)
                    / (os.cpu_count() or 1),
                }
            },
        ),
        (
            f"proxy route check, {n} routes / none",
            route_all / route_none,
            f"{route_all * 1000:.1f} ms vs {route_none * 1000:.1f} ms (JupyterHub's check_routes_duration_seconds)",
            None,
        ),
        (
            f"idle culler's round, {n} labs / {FEW}",
            culler_all["wall"] / few["culler"]["wall"],
            f"{culler_all['wall'] * 1000:.0f} ms vs {few['culler']['wall'] * 1000:.0f} ms; the hub's CPU "
            f"{culler_all['hub_cpu'] * 1000:.0f} ms vs {few['culler']['hub_cpu'] * 1000:.0f} ms",
            None,
        ),
        (
            f"hub RSS, {n} labs / none",
            rss_all / rss_none,
            f"{rss_all / 2**20:.0f} MB vs {rss_none / 2**20:.0f} MB",
            "<= 1.3",
        ),
        (
            "memory of an idle lab, small image (MiB)",
            lab_mib,
            f"median of {n} labs, without reclaimable page cache (MiB, not a ratio)"
            + (f"; DS image {DS_IMAGE}: {ds_mib:.0f} MiB" if ds_mib else f"; no {DS_IMAGE} on this machine")
            + f"; load average at the end {load[0]:.2f}",
            None,
        ),
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row[0]:<70} {row[1]:>8.2f}  {row[2]}")
