"""The monitor's figures on the hub's own /hub/metrics (prometheus_client's default registry,
which JupyterHub's metrics handler serves).

A collector, not module-level gauges: values are read at scrape time, so a lab that stopped
disappears from the per-lab series instead of keeping its last value. Scrapes never call the
engine; they read the cached statistics and start a background refresh when those are stale.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

from .monitor import Monitor, lab_container, naive_utc

# a child of JupyterHub's own logger, so messages land in the hub's log with its format
log = logging.getLogger("JupyterHub.activity")


class ActivityCollector:
    def __init__(self, monitor: Monitor):
        self.monitor = monitor

    def describe(self):
        return []  # names are fixed below; no collect() at registration time

    def collect(self):
        m = self.monitor
        if m._db is None:
            return
        try:
            labs = m.labs(m._db)
        except Exception:
            log.exception("activity metrics: reading the hub's users failed")
            return
        now = naive_utc(m.clock())
        running = [lab for lab in labs if lab.running]
        yield GaugeMetricFamily(
            "stellars_activity_running_labs", "Labs (default and named servers) running now", value=len(running)
        )
        yield GaugeMetricFamily(
            "stellars_activity_active_users",
            "Users whose running lab reported activity within JUPYTERHUB_ACTIVITYMON_INACTIVE_AFTER",
            value=len({lab.username for lab in running if m.recently_active(lab, now)}),
        )
        try:
            asyncio.get_running_loop()
            asyncio.ensure_future(m.lab_stats(labs, wait=False))  # never wait for the engine in a scrape
        except RuntimeError:
            pass  # no loop (offline use): serve what is cached
        stats = m.stats.value or {}
        # default servers keep their series as they always were; named servers get their own
        # families, with the server's name as a second label
        cpu = GaugeMetricFamily(
            "stellars_activity_lab_cpu_percent",
            "CPU use of a running lab (100 = one core), measured at most 10 s ago",
            labels=["username"],
        )
        memory = GaugeMetricFamily(
            "stellars_activity_lab_memory_bytes",
            "Memory in use by a running lab, without reclaimable page cache",
            labels=["username"],
        )
        named_cpu = GaugeMetricFamily(
            "stellars_activity_named_lab_cpu_percent",
            "CPU use of a running named server (100 = one core), measured at most 10 s ago",
            labels=["username", "server"],
        )
        named_memory = GaugeMetricFamily(
            "stellars_activity_named_lab_memory_bytes",
            "Memory in use by a running named server, without reclaimable page cache",
            labels=["username", "server"],
        )
        for lab in running:
            st = stats.get(lab_container(lab.username, lab.server))
            if st is None:
                continue
            if lab.server:
                named_cpu.add_metric([lab.username, lab.server], st.cpu_percent)
                named_memory.add_metric([lab.username, lab.server], st.memory_bytes)
            else:
                cpu.add_metric([lab.username], st.cpu_percent)
                memory.add_metric([lab.username], st.memory_bytes)
        yield cpu
        yield memory
        yield named_cpu
        yield named_memory


def register(monitor: Monitor) -> ActivityCollector:
    """Add the monitor's collector to the default registry (once per hub: at its start)."""
    collector = ActivityCollector(monitor)
    REGISTRY.register(collector)
    return collector
