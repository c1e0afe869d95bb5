"""What the hub's Docker spawners share: one object per hub, held by its ``DockerRuntime``
(never module or class state, so two hubs in one process, as in the tests, keep theirs apart)."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from jupyterhub.utils import random_port

from .labnet import NetworkStatus
from .startqueue import StartQueue

# Host networking: each lab listens on its own loopback port, chosen by the hub and bound by the
# lab seconds later. Ports are drawn below Linux's ephemeral range (32768+), so no outgoing
# connection of the host can take one meanwhile, and never one handed to another lab of this hub
# that may not have bound it yet.
HOST_PORT_RANGE = (20000, 32768)
# DockerSpawner runs every engine call of every user on ONE thread with one client, so a class of
# spawns queues behind each other's create/start/stop calls: a few threads, a client per thread
# (a requests session is not meant to be shared across threads).
ENGINE_THREADS = 8


class LabHost:
    def __init__(self) -> None:
        self.host_ports: dict[str, int] = {}  # lab (container) name -> loopback port handed out
        self.hub_containers: dict[str, bool] = {}  # configured hub container -> whether the engine knows it
        self.executor = ThreadPoolExecutor(ENGINE_THREADS, thread_name_prefix="stellars-spawner")
        self.clients = threading.local()  # the spawners' engine client of each executor thread
        self.api_version: str | None = None  # learnt by the first client; later ones skip the round trip
        self.queue: StartQueue | None = None
        self.network_status = NetworkStatus()  # what readiness says about lab networks
        self._queue_lock = asyncio.Lock()

    def free_host_port(self, lab: str) -> int:
        taken = {p for n, p in self.host_ports.items() if n != lab}
        for _ in range(200):
            port = random.randrange(*HOST_PORT_RANGE)
            if port in taken:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            self.host_ports[lab] = port
            return port
        return random_port()  # the range is exhausted or blocked: let the kernel pick

    async def start_queue(self, configured: int, cpu_count, log) -> StartQueue:
        """The hub's start queue, sized on first use: ``configured`` turns, or (0) one less than
        the engine's CPUs (``await cpu_count()``), at least one."""
        async with self._queue_lock:
            if self.queue is None:
                size = configured
                if not size:
                    cpus = await cpu_count()
                    if cpus is None:
                        log.warning("Could not read the engine's CPU count; starting 8 labs at once")
                    size = max(1, cpus - 1) if cpus else 8
                self.queue = StartQueue(size)
                log.info("Labs start %d at once; later starts wait their turn", size)
        return self.queue
