"""Where the time of a spawn goes, read from what the parts themselves record.

Sources, all wall-clock (the machine's clock, shared by the hub, the engine and the labs):
- the hub's log at debug level (JupyterHub's and DockerSpawner's own lines, millisecond stamps,
  local time);
- the engine's record of the container (``Created``, ``State.StartedAt``);
- the lab's log as the engine timestamps it (``docker logs --timestamps``): its first line
  (the interpreter has imported the server) and "is running at" (it listens).

Nothing here guesses a phase: a phase whose marks are missing is left out of the breakdown.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime

_HUB_LINE = re.compile(r"^\[\w (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) [^\]]*\] (.*)$")
_ENGINE_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z")


def hub_stamp(text: str) -> float:
    """A hub log stamp (local time, ms) as epoch seconds."""
    base, ms = text.split(".")
    return time.mktime(time.strptime(base, "%Y-%m-%d %H:%M:%S")) + int(ms) / 1000


def engine_stamp(text: str) -> float:
    """An engine stamp (RFC 3339 UTC, up to ns) as epoch seconds."""
    m = _ENGINE_STAMP.match(text)
    if not m:
        raise ValueError(f"not an engine time stamp: {text!r}")
    whole = calendar.timegm(datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").timetuple())
    return whole + float("0." + (m.group(2) or "0"))


def hub_events(log_text: str, since: float = 0.0) -> list[tuple[float, str]]:
    """(epoch, message) of every hub log line at or after ``since``."""
    out = []
    for line in log_text.splitlines():
        m = _HUB_LINE.match(line)
        if m:
            t = hub_stamp(m.group(1))
            if t >= since - 0.001:
                out.append((t, m.group(2)))
    return out


def first(events, *needles: str) -> float | None:
    for t, msg in events:
        if all(n in msg for n in needles):
            return t
    return None


def lab_marks(container) -> dict[str, float]:
    """Engine and lab time marks of a container (docker SDK object, still present)."""
    container.reload()
    marks = {
        "created": engine_stamp(container.attrs["Created"]),
        "started": engine_stamp(container.attrs["State"]["StartedAt"]),
    }
    logs = container.logs(timestamps=True).decode(errors="replace").splitlines()
    if logs:
        marks["first_line"] = engine_stamp(logs[0])
    for line in logs:
        if "is running at" in line:
            marks["listening"] = engine_stamp(line)
            break
    return marks


def spawn_breakdown(events, user: str, lab: dict[str, float], t_request: float, t_answer: float) -> dict[str, float]:
    """Seconds per phase of one hub spawn, in order; see the module doc for the sources."""
    marks = {
        "request": t_request,
        "initiated": first(events, "Initiating spawn for", user),
        "start_called": first(events, "Calling Spawner.start for", user),
        "created": first(events, "Created container", user),
        "start_sent": first(events, "Starting container", user),
        "start_returned": first(events, "Waiting", "for server at", user),
        "checked_in": first(events, "POST", f"/users/{user}/activity"),
        "hub_saw_lab": first(events, "responded with", f"/user/{user}/"),
        "route_requested": first(events, "Adding user", user, "to proxy"),
        "answer": t_answer,
        **{f"lab_{k}": v for k, v in lab.items()},
    }
    phases = [
        ("hub request handling", "request", "initiated"),
        ("pre-spawn (oauth client, hooks)", "initiated", "start_called"),
        ("image check, volumes, container create", "start_called", "lab_created"),
        ("container create returned to hub", "lab_created", "created"),
        ("container start (engine)", "start_sent", "lab_started"),
        ("lab interpreter + imports", "lab_started", "lab_first_line"),
        ("lab server start-up", "lab_first_line", "lab_listening"),
        ("lab check-in with hub", "lab_listening", "checked_in"),
        ("hub polling until lab answers", "lab_listening", "hub_saw_lab"),
        ("spawn bookkeeping until route requested", "hub_saw_lab", "route_requested"),
        ("route added, client sees lab via proxy", "route_requested", "answer"),
    ]
    return _spans(marks, phases)


def bare_breakdown(lab: dict[str, float], t_request: float, t_answer: float) -> dict[str, float]:
    marks = {"request": t_request, "answer": t_answer, **{f"lab_{k}": v for k, v in lab.items()}}
    phases = [
        ("container create (engine)", "request", "lab_created"),
        ("container start (engine)", "lab_created", "lab_started"),
        ("lab interpreter + imports", "lab_started", "lab_first_line"),
        ("lab server start-up", "lab_first_line", "lab_listening"),
        ("client sees lab", "lab_listening", "answer"),
    ]
    return _spans(marks, phases)


def median_phases(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per-phase median over runs, in the first run's order."""
    import statistics

    if not runs:
        return {}
    return {k: statistics.median(r[k] for r in runs if k in r) for k in runs[0]}


def format_phases(phases: dict[str, float]) -> list[str]:
    return [f"{name}: {seconds * 1000:.0f} ms" for name, seconds in phases.items()]


def engine_events(container_id: str, since: float, until: float) -> list[tuple[float, str]]:
    """(epoch, action) of the engine's events for one container between two moments."""
    from harness import engine

    raw = engine().api.events(since=int(since), until=int(until) + 1, decode=True, filters={"container": container_id})
    return [(e["timeNano"] / 1e9, e["Action"]) for e in raw if e["timeNano"] / 1e9 >= since - 0.001]


def event_time(events, action: str, after: float = 0.0) -> float | None:
    for t, a in events:
        if a == action and t >= after:
            return t
    return None


def last_listening(container, after: float) -> float | None:
    """When the lab last said it listens, if that was after ``after``."""
    for line in reversed(container.logs(timestamps=True).decode(errors="replace").splitlines()):
        if "is running at" in line:
            t = engine_stamp(line)
            return t if t >= after else None
    return None


def restart_breakdown(events, listening: float | None, t_request: float, t_answer: float) -> dict[str, float]:
    """Restart Server in place: the engine's kill/die/start events and the lab's log."""
    kill = event_time(events, "kill", t_request)
    die = event_time(events, "die", t_request)
    start = event_time(events, "start", t_request)
    marks = {"request": t_request, "kill": kill, "die": die, "start": start, "listening": listening, "answer": t_answer}
    phases = [
        ("hub: request to stop signal", "request", "kill"),
        ("graceful stop (lab's own shutdown)", "kill", "die"),
        ("engine: stopped to started", "die", "start"),
        ("lab start-up (interpreter, imports, server)", "start", "listening"),
        ("readiness wait + response to client", "listening", "answer"),
    ]
    return _spans(marks, phases)


def stop_breakdown(events, t_request: float, t_stopped: float) -> dict[str, float]:
    """JupyterHub stop: the engine's kill/die/destroy events."""
    kill = event_time(events, "kill", t_request)
    die = event_time(events, "die", t_request)
    destroy = event_time(events, "destroy", t_request)
    marks = {"request": t_request, "kill": kill, "die": die, "destroy": destroy, "stopped": t_stopped}
    phases = [
        ("hub: request to stop signal", "request", "kill"),
        ("graceful stop (lab's own shutdown)", "kill", "die"),
        ("container removal", "die", "destroy"),
        ("hub bookkeeping, client sees it stopped", "destroy", "stopped"),
    ]
    return _spans(marks, phases)


def container_cpu_seconds(container_id: str) -> float | None:
    """CPU time a container has used so far, from its cgroup (v1 cpuacct or v2 cpu.stat, the
    engine's cgroupfs or systemd layout); None when this machine keeps it elsewhere."""
    from pathlib import Path

    v1 = [
        f"/sys/fs/cgroup/cpuacct/docker/{container_id}/cpuacct.usage",
        f"/sys/fs/cgroup/cpu,cpuacct/docker/{container_id}/cpuacct.usage",
        f"/sys/fs/cgroup/cpuacct/system.slice/docker-{container_id}.scope/cpuacct.usage",
    ]
    for path in v1:
        try:
            return int(Path(path).read_text()) / 1e9
        except (OSError, ValueError):
            pass
    for path in (
        f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat",
        f"/sys/fs/cgroup/docker/{container_id}/cpu.stat",
    ):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
        except (OSError, ValueError):
            pass
    return None


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (its threads included), from /proc."""
    import os
    from pathlib import Path

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spans(marks: dict, phases: list[tuple[str, str, str]]) -> dict[str, float]:
    """Each phase's length, for the phases whose two marks were both seen."""
    return {name: marks[b] - marks[a] for name, a, b in phases if marks.get(a) is not None and marks.get(b) is not None}
