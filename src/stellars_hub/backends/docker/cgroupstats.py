"""Containers' CPU and memory read straight from the kernel's cgroup files, all in one pass.

The engine's statistics call takes two readings a second apart for every container and holds a
thread for that second: a hundred labs cost a hundred calls, several seconds of the engine's
CPU and rounds that fall behind. The engine reads these very files; a hub on the engine's host
(or with the host's ``/sys/fs/cgroup`` mounted at ``/host/sys/fs/cgroup``) reads them itself:
a few small files per lab, and the CPU share from the previous round's reading (a container
seen for the first time is read twice, half a second apart, once for all of them). The files of
each container stay open between rounds: reading one again from its start costs a fraction of
opening it (the kernel writes it anew either way), and the open is most of a lab's cost.

Both layouts the engine uses are understood: cgroup v1 and v2, with the ``cgroupfs`` driver
(``docker/<id>``) or systemd's (``system.slice/docker-<id>.scope``). A container found in
neither (a custom cgroup parent, a remote engine) is left to the engine's own statistics.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from pathlib import Path

from ...runtime.base import ContainerStats

ROOTS = ("/sys/fs/cgroup", "/host/sys/fs/cgroup")
FIRST_GAP = 0.5  # seconds between the two readings of a container seen for the first time
FORGET_AFTER = 600.0  # seconds: a reading this old is no base for a CPU share
MIN_WINDOW = 1.0  # seconds: a CPU share over less is noise; the last share stands meanwhile
UNLIMITED = 2**60  # cgroup v1 writes "no limit" as a number near 2**63
KEPT_PER_LAB = 3  # descriptors a container's reading keeps open (CPU, memory, memory.stat)
LET_GO_AFTER = 60.0  # seconds: the files of a container nobody asked about since (stopped) are closed


def _read(path: Path) -> bytes:
    # os.open/os.read: a third of what open() costs, and a hundred labs read three files each
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def _stat_value(text: bytes, key: bytes) -> int:
    """The number after ``key`` in a cgroup stat file (``key value`` lines; 0 when absent)."""
    field = key + b" "
    if text.startswith(field):
        start = len(field)
    else:
        at = text.find(b"\n" + field)
        if at < 0:
            return 0
        start = at + 1 + len(field)
    end = text.find(b"\n", start)
    return int(text[start:end] if end >= 0 else text[start:])


def kept_labs_max() -> int:
    """How many containers' files may stay open: a quarter of the process's descriptors."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 10**6 if soft == resource.RLIM_INFINITY else soft // 4 // KEPT_PER_LAB


def host_memory() -> int:
    try:
        line = _read(Path("/proc/meminfo")).split(b"\n", 1)[0]  # MemTotal:  24576000 kB
        return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0


class Cgroup:
    """Where one container's figures are, and how to read them."""

    def __init__(self, cpu: Path, memory: Path, v2: bool, keep: bool = False):
        self.cpu, self.memory, self.v2 = cpu, memory, v2
        self._fds: dict[Path, int] | None = {} if keep else None  # path -> descriptor kept open
        if v2:
            self._cpu, self._usage = cpu / "cpu.stat", memory / "memory.current"
            self._limit, self._reclaimable = memory / "memory.max", b"inactive_file"
        else:
            self._cpu, self._usage = cpu / "cpuacct.usage", memory / "memory.usage_in_bytes"
            self._limit, self._reclaimable = memory / "memory.limit_in_bytes", b"total_inactive_file"
        self._stat = memory / "memory.stat"
        self.limit: int | None = None  # read once: a container's limit stays (a new one is a new container)

    def _now(self, path: Path) -> bytes:
        """The file as the kernel writes it now: through its kept descriptor, or opened for this read."""
        if self._fds is None:
            return _read(path)
        fd = self._fds.get(path)
        if fd is None:
            fd = self._fds[path] = os.open(path, os.O_RDONLY)
        return os.pread(fd, 65536, 0)

    def close(self) -> None:
        for fd in (self._fds or {}).values():
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = None

    def cpu_ns(self) -> int:
        if self.v2:
            return _stat_value(self._now(self._cpu), b"usage_usec") * 1000
        return int(self._now(self._cpu))

    def memory_used_and_limit(self) -> tuple[int, int]:
        if self.limit is None:
            text = _read(self._limit).strip()
            limit = 0 if text == b"max" else int(text)
            self.limit = 0 if limit >= UNLIMITED else limit
        usage = int(self._now(self._usage))
        # page cache the kernel can take back is not "used", as the engine's figures say
        return max(0, usage - _stat_value(self._now(self._stat), self._reclaimable)), self.limit


def locate(container_id: str, roots=ROOTS, keep: bool = False) -> Cgroup | None:
    for root in map(Path, roots):
        for rel in (f"docker/{container_id}", f"system.slice/docker-{container_id}.scope"):
            if (root / rel / "cpu.stat").is_file() and (root / rel / "memory.current").is_file():
                return Cgroup(root / rel, root / rel, v2=True, keep=keep)
            cpu, memory = root / "cpuacct" / rel, root / "memory" / rel
            if (cpu / "cpuacct.usage").is_file() and (memory / "memory.usage_in_bytes").is_file():
                return Cgroup(cpu, memory, v2=False, keep=keep)
    return None


class CgroupStats:
    """One reader per runtime: the last CPU reading of every container, keyed by container id."""

    def __init__(self, roots=ROOTS, clock=time.monotonic, sleep=time.sleep):
        self.roots = roots
        self.clock, self.sleep = clock, sleep
        self._groups: dict[str, Cgroup] = {}
        self._asked: dict[str, float] = {}  # id -> when a read last asked for it
        self._last: dict[str, tuple[float, int]] = {}  # id -> (clock, CPU ns): the base of the next share
        self._share: dict[str, float] = {}  # id -> the last CPU share (100 = one core)
        self._host_memory: int | None = None
        self._keep_max = kept_labs_max()
        self._lock = threading.Lock()

    def usable(self) -> bool:
        return any(os.path.isdir(r) for r in self.roots)

    def read(self, ids: list[str]) -> dict[str, ContainerStats | None]:
        """Figures for every id (None: no cgroup of that container here). Blocking file reads:
        run it off the event loop (callers on several threads take turns)."""
        with self._lock:
            return self._read(ids)

    def _read(self, ids: list[str]) -> dict[str, ContainerStats | None]:
        if self._host_memory is None:
            self._host_memory = host_memory()
        found: dict[str, ContainerStats | None] = {}
        readings: dict[str, tuple[float, int]] = {}
        new = []
        for cid in ids:
            reading = self._cpu(cid)
            if reading is None:
                found[cid] = None
                continue
            readings[cid] = reading
            last = self._last.get(cid)
            if last is None or reading[0] - last[0] > FORGET_AFTER or reading[1] < last[1]:
                new.append(cid)
        if new:  # one gap for all the containers seen for the first time
            self.sleep(FIRST_GAP)
            for cid in new:
                self._last[cid] = readings[cid]
                readings[cid] = self._cpu(cid) or readings[cid]
        for cid, (now, cpu) in readings.items():
            before = self._last.get(cid)
            if before is not None and now - before[0] >= MIN_WINDOW or cid in new:
                if before is not None and now > before[0]:
                    self._share[cid] = max(0.0, (cpu - before[1]) / 1e9 / (now - before[0]) * 100.0)
                self._last[cid] = (now, cpu)
            group = self._groups.get(cid)
            try:
                used, limit = group.memory_used_and_limit() if group else (-1, 0)
            except (OSError, ValueError):  # the container stopped meanwhile
                used = -1
            if used < 0:
                found[cid] = None
                continue
            found[cid] = ContainerStats(round(self._share.get(cid, 0.0), 2), used, limit or self._host_memory or 0)
        horizon = self.clock() - FORGET_AFTER
        for cid in [c for c, (at, _) in self._last.items() if at < horizon]:  # stopped long ago
            self._last.pop(cid, None)
            self._share.pop(cid, None)
        now = self.clock()
        self._asked.update(dict.fromkeys(ids, now))
        for cid in [c for c, at in self._asked.items() if now - at > LET_GO_AFTER]:
            self._asked.pop(cid)
            self._forget(cid)
        return found

    def _cpu(self, cid: str) -> tuple[float, int] | None:
        group = self._groups.get(cid) or locate(cid, self.roots, keep=len(self._groups) < self._keep_max)
        if group is None:
            return None
        try:
            value = group.cpu_ns()
        except (OSError, ValueError):
            group.close()
            self._forget(cid)  # gone (stopped, or recreated under the same name)
            return None
        self._groups[cid] = group
        return self.clock(), value

    def _forget(self, cid: str) -> None:
        group = self._groups.pop(cid, None)
        if group is not None:
            group.close()
