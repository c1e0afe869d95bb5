"""Idle cost of open pages: 100 home pages and 5 activity pages left open, nobody clicking.

Each page is driven as its script drives it: the page is loaded once, then every poller the
page starts (``window.stellarsPoll(check, min, max)`` in static/*.js, intervals read from the
scripts themselves) asks the hub on its schedule: ``min`` after a change, doubling up to ``max``
while nothing changes, which is what an idle page sees. Tabs are visible (hidden ones do not
poll at all). The hub's CPU (its own process, from /proc) and its request rate (its log) are
measured with no page open, then with the pages open once their polling has settled, and for
comparison with the fixed intervals the scripts used before they backed off.

Run alone: ``.venv/bin/python -m bench pages_bench``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

from .common import running_hub
from .phases import hub_events

STATIC = Path(__file__).resolve().parent.parent / "src" / "stellars_hub" / "static"
HOME_PAGES = 100
ACTIVITY_PAGES = 5
USERS = 20  # home pages are spread over this many users (each user has HOME_PAGES / USERS tabs)
BASELINE_S = 30
SETTLE_S = 100  # long enough for a 3 s poller to reach a 60 s interval (3+3+6+12+24+48)
WINDOW_S = 60
OLD_WINDOW_S = 30
# what the pages polled before they backed off (git history of static/*.js): fixed intervals
OLD_FIXED_S = {"selfservice.js": 3.0, "session-card.js": 60.0, "activity.js": 30.0}


def poll_schedule(script: str) -> tuple[float, float]:
    """(min, max) seconds of the one stellarsPoll call in a script, evaluated from its source."""
    source = (STATIC / script).read_text()
    consts = {m.group(1): float(m.group(2)) for m in re.finditer(r"const (\w+) = (\d+);", source)}
    m = re.search(r"stellarsPoll\(\w+, ([^,]+), ([^)]+)\)", source)
    if not m:
        raise AssertionError(f"{script}: no stellarsPoll call")

    def value(expr: str) -> float:
        expr = re.sub(r"[A-Z_]+", lambda k: str(consts[k.group(0)]), expr)
        if not re.fullmatch(r"[\d.\s*+]+", expr):
            raise AssertionError(f"{script}: cannot evaluate {expr!r}")
        return float(eval(expr)) / 1000  # digits and * only, checked above

    return value(m.group(1)), value(m.group(2))


class Page(threading.Thread):
    """One open tab: loads its page, then runs its pollers on their schedules."""

    def __init__(self, hub, session, page_path, pollers, stop: threading.Event, fixed: bool = False):
        super().__init__(daemon=True)
        self.hub, self.s, self.page_path, self.stop = hub, session, page_path, stop
        self.pollers = pollers  # [(api path, script)]
        self.fixed = fixed

    def run(self):
        self.s.get(self.hub.hub_url + self.page_path, timeout=120)
        now = time.monotonic()
        state = []
        for path, script in self.pollers:
            lo, hi = (OLD_FIXED_S[script],) * 2 if self.fixed else poll_schedule(script)
            state.append([path, lo, hi, now, lo, True])  # path, min, max, next, wait, first
        while not self.stop.is_set():
            now = time.monotonic()
            for entry in state:
                path, lo, hi, due, wait, first = entry
                if now >= due:
                    try:
                        self.hub.api(self.s, "GET", path, timeout=120)
                    except Exception:
                        pass
                    # the first answer differs from "nothing yet" (a change); later ones do not
                    entry[4] = lo if first else min(hi, wait * 2)
                    entry[3] = time.monotonic() + entry[4]
                    entry[5] = False
            nxt = min(e[3] for e in state)
            self.stop.wait(max(0.05, nxt - time.monotonic()))


def _hub_pid(hub) -> int:
    """The jupyterhub process of the harness's hub (not the proxy, not the culler service)."""
    best = None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        pgrp = int(stat.rsplit(")", 1)[1].split()[2])
        if pgrp == hub.proc.pid and "jupyterhub" in cmd and "culler" not in cmd and "proxy" not in cmd:
            best = int(entry) if best is None else min(best, int(entry))
    if best is None:
        raise AssertionError("hub process not found")
    return best


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(hub, pid, seconds) -> tuple[float, float]:
    """(share of one core, requests per second) of the hub over the next ``seconds``."""
    t_wall, cpu0 = time.time(), _cpu_seconds(pid)
    time.sleep(seconds)
    cpu = _cpu_seconds(pid) - cpu0
    wall = time.time() - t_wall
    requests = sum(
        1
        for t, m in hub_events(hub.log_text(), t_wall)
        if re.match(r"\d{3} (GET|POST|PUT|PATCH|DELETE) ", m) and t <= t_wall + wall
    )
    return cpu / wall, requests / wall


def _open(hub, people, admin_session, stop, fixed=False) -> list[Page]:
    pages = []
    for i in range(HOME_PAGES):
        name, session = people[i % len(people)]
        pages.append(
            Page(
                hub,
                session,
                "home",
                [(f"users/{name}", "selfservice.js"), (f"users/{name}/session-info", "session-card.js")],
                stop,
                fixed,
            )
        )
    for _ in range(ACTIVITY_PAGES):
        pages.append(Page(hub, admin_session, "activity", [("activity", "activity.js")], stop, fixed))
    for p in pages:
        p.start()
        time.sleep(0.05)  # tabs opened one after another, not in the same millisecond
    return pages


def run():
    # the culler on: the session card keeps polling only when there is a deadline to show
    with running_hub(JUPYTERHUB_IDLE_CULLER_ENABLED="1") as hub:
        admin = hub.admin_session()
        people = [hub.new_user(f"pg{i}-") for i in range(USERS)]
        pid = _hub_pid(hub)
        idle_cpu, idle_rate = _measure(hub, pid, BASELINE_S)

        stop = threading.Event()
        pages = _open(hub, people, admin, stop)
        time.sleep(SETTLE_S)
        open_cpu, open_rate = _measure(hub, pid, WINDOW_S)
        stop.set()
        for p in pages:
            p.join(30)

        stop_old = threading.Event()
        pages = _open(hub, people, admin, stop_old, fixed=True)
        time.sleep(5)
        old_cpu, old_rate = _measure(hub, pid, OLD_WINDOW_S)
        stop_old.set()
        for p in pages:
            p.join(30)

    schedules = ", ".join(f"{s} {lo:g}-{hi:g} s" for s in OLD_FIXED_S for lo, hi in [poll_schedule(s)])
    note = (
        f"{HOME_PAGES} home + {ACTIVITY_PAGES} activity pages, {SETTLE_S} s after opening; "
        f"hub {open_cpu * 100:.1f} % of a core, {open_rate:.2f} req/s; none open {idle_cpu * 100:.1f} %, "
        f"{idle_rate:.2f} req/s"
    )
    return [
        (
            "hub CPU, 100 idle open pages (% of one core)",
            open_cpu * 100,
            note,
            "<= 5",
            {
                "idle open pages": {
                    "hub CPU, no page open": f"{idle_cpu * 100:.1f} %",
                    "hub CPU, pages open, settled": f"{open_cpu * 100:.1f} %",
                    "hub CPU, pages at the old fixed intervals": f"{old_cpu * 100:.1f} %",
                    "hub requests/s, no page open": f"{idle_rate:.2f}",
                    "hub requests/s, pages open, settled": f"{open_rate:.2f}",
                    "hub requests/s, pages at the old fixed intervals": f"{old_rate:.2f}",
                    "poll schedules (min-max)": schedules,
                }
            },
        ),
        ("hub CPU, 100 idle open pages / none open", open_cpu / max(idle_cpu, 1e-6), note, None),
        (
            "hub requests/s, 100 idle open pages / old fixed intervals",
            open_rate / max(old_rate, 1e-6),
            f"old fixed intervals: {old_rate:.2f} req/s, {old_cpu * 100:.1f} % of a core",
            None,
        ),
    ]
