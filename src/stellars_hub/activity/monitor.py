"""The monitor: samples, scores, container statistics and volume sizes, for one hub process.

The hub's state is read from its own ORM session (the one every JupyterHub handler uses), on
the event loop, read-only: nothing here ever adds, changes or commits a hub record. Samples go
to the monitor's own SQLite file through that file's one thread (see store.py, storage.py); container
statistics and volume sizes come from the engine through the monitor's own runtime, whose
thread pool is separate from the one restarts and resets use.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import logging
import operator
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from jupyterhub import orm
from sqlalchemy import event, select

from .. import naming
from ..lab.config import NamedServers
from ..runtime import ContainerRuntime
from ..session import extension_store, seconds_until_stop
from ..session.config import IdleCuller
from .cache import SingleFlight
from .config import ActivityMonitor
from .store import SampleStore, store_for

# a child of JupyterHub's own logger, so messages land in the hub's log with its format
log = logging.getLogger("JupyterHub.activity")

STATS_TTL = 10.0  # seconds: one round of engine stats calls serves every page refresh within it
VOLUME_TTL = 300.0  # seconds: docker df walks every volume, so sizes are refreshed rarely
VOLUME_WAIT = 3.0  # seconds a request waits for the very first volume sizes before answering without
LABS_MAX_AGE = 10.0  # seconds: a safety net for writes that no commit of this process announced
REPORT_TTL = 2.0  # seconds: page refreshes that see the same hub state share one report (ten
#                   admins must not multiply its build); any change of a server's state or
#                   activity builds a new one


class Lab(NamedTuple):
    """One server of a hub user (the default one, or a named one), as the hub's database says.
    A named tuple: a report compares and hashes a thousand of them per build, in C."""

    username: str
    running: bool  # the server exists (started or starting)
    last_activity: datetime | None  # the server's own last activity, naive UTC as JupyterHub stores it
    started: datetime | None = None  # when the server started (None when not running)
    # who exactly: a user deleted and created again under the same name is another user (and
    # SQLite may even give them the same id), with other volumes
    identity: tuple = ()
    server: str = ""  # '' = the default server

    @property
    def key(self) -> tuple[str, str]:
        return (self.username, self.server)


_USERS = select(orm.User.id, orm.User.name, orm.User.created)
_SPAWNERS = select(
    orm.Spawner.user_id, orm.Spawner.name, orm.Spawner.server_id, orm.Spawner.last_activity, orm.Spawner.started
)


def hub_labs(db) -> list[Lab]:
    """Every hub user's default server (one row per user, running or not) and every named
    server the hub knows (running or stopped), by user then server. Two read-only queries on
    the session's connection, joined here: Core rows cost a fraction of ORM rows, and SQLite
    would build a throw-away index for every join of the two tables."""
    conn = db.connection()
    servers: dict[int, dict[str, tuple]] = {}
    for uid, server, server_id, last, started in conn.execute(_SPAWNERS).all():
        servers.setdefault(uid, {})[server or ""] = (server_id is not None, last, started)
    labs = []
    for uid, name, created in conn.execute(_USERS).all():
        identity = (uid, name, created)
        own = servers.get(uid, {})
        if "" not in own:  # never started: no spawner row yet
            labs.append(Lab(name, False, None, None, identity, ""))
        for server, (running, last, started) in own.items():
            labs.append(Lab(name, running, last, started if running else None, identity, server))
    labs.sort(key=_BY_USER_THEN_SERVER)
    return labs


_BY_USER_THEN_SERVER = operator.itemgetter(0, 5)


@functools.lru_cache(maxsize=8192)
def lab_container(username: str, server: str = "") -> str:
    """A server's container name; escaping is cached, reports name every server."""
    return naming.server_container_name(username, server)


@functools.lru_cache(maxsize=8192)
def lab_volumes(
    names: naming.VolumeNames,
    identity: tuple,
    volumes: tuple[naming.UserVolume, ...],
    server: str = "",
    shared_home: bool = False,
) -> tuple[str, ...]:
    """A server's own volume names. Keyed by who the user is (id, name, creation time), the
    server and the configured volumes: a user keeps their volumes for life (a rename keeps them
    too), so an entry never goes stale, and a newcomer with a deleted user's name never gets
    theirs. A named server sharing the default server's home does not count that home again."""
    own = names.server_volume_names(identity[1], server, volumes)
    if server and shared_home:
        own.pop("home", None)
    return tuple(own.values())


class Report:
    """A built report: its JSON text, that text gzipped, and the dict (parsed when asked)."""

    def __init__(self, text: str, gzipped: bytes):
        self.text = text
        self.gzipped = gzipped

    @functools.cached_property
    def data(self) -> dict:
        return json.loads(self.text)


def naive_utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.replace(microsecond=0).isoformat() + "Z"


class Monitor:
    def __init__(
        self,
        settings,
        data_dir: str | Path,
        clock: Callable[[], float] = time.time,
        runtime: ContainerRuntime | None = None,
        store: SampleStore | None = None,
        extensions=None,
        names: naming.VolumeNames | None = None,
    ):
        self.settings = settings  # the hub's settings: settings(ActivityMonitor) and the like
        self.config = settings(ActivityMonitor)
        self.clock = clock  # epoch seconds; tests pass a controllable one
        self.store = store or SampleStore(Path(data_dir) / SampleStore.FILE_NAME)
        self.extensions = extensions or extension_store(data_dir=data_dir)  # the session feature's
        self.names = names or naming.VolumeNames()  # the hub's: it knows renamed users
        self._runtime = runtime
        self._db = None  # the hub's ORM session, attached when the hub is up
        self._hub_writes = 0  # commits and rollbacks on the hub's database engine
        self._labs: tuple | None = None  # ((writes, session), monotonic time, hub_labs(session))
        self._scores: dict[tuple[str, str], tuple[float | None, int]] | None = None
        self._generation = 0  # bumped by every change that makes cached scores wrong
        self._stats_targets: list[str] = []
        self._volume_targets: list[str] = []
        self._volume_targets_of: tuple | None = None  # (labs, volume specs) they were listed for
        self.volume_specs: tuple[naming.UserVolume, ...] = naming.USER_VOLUMES  # set by the API handler
        self.stats = SingleFlight(STATS_TTL, self._fetch_stats)
        self.stats_measured_at: float | None = None  # epoch seconds of the last completed round
        self.volumes = SingleFlight(VOLUME_TTL, self._fetch_volumes)
        self._report_epoch = 0  # bumped when samples, scores or names change
        self._report_cache: tuple | None = None  # (key, monotonic time, Report)
        self._rows: dict[tuple, str] = {}  # a report's rows as JSON text, by what each shows
        self._rows_context: tuple | None = None  # the volume sizes and settings those rows used
        self._report_inflight: dict[tuple, asyncio.Future] = {}
        self.passes = 0
        self.last_pass: float | None = None

    # -- settings in the units the code uses --------------------------------------------------
    @property
    def inactive_after_seconds(self) -> int:
        return self.config.inactive_after * 60

    @property
    def retention_seconds(self) -> int:
        return self.config.retention_days * 86400

    @property
    def half_life_hours(self) -> float:
        return float(self.config.half_life)

    @property
    def runtime(self) -> ContainerRuntime:
        if self._runtime is None:
            raise RuntimeError("the activity monitor has no container runtime")
        return self._runtime

    def attach(self, db) -> None:
        if db is self._db:
            return
        self._db = db
        self._labs = None
        # every write to the hub's database ends in a commit (or a rollback) on its engine;
        # until the next one, the servers the hub knows cannot have changed
        for name in ("commit", "rollback"):
            if not event.contains(db.get_bind(), name, self._hub_wrote):
                event.listen(db.get_bind(), name, self._hub_wrote)

    def _hub_wrote(self, conn) -> None:
        self._hub_writes += 1

    def labs(self, db) -> list[Lab]:
        """hub_labs(db), read again only after the hub's database committed or rolled back
        (or LABS_MAX_AGE passed), so refreshes on a quiet hub skip the two queries."""
        self.attach(db)
        if (
            self._labs is None
            or self._labs[0] != (self._hub_writes, db)
            or time.monotonic() - self._labs[1] > LABS_MAX_AGE
        ):
            labs = hub_labs(db)
            # counted after reading: a new transaction's connection ping (JupyterHub's) commits too
            self._labs = ((self._hub_writes, db), time.monotonic(), labs)
        return self._labs[2]

    def recently_active(self, lab: Lab, now: datetime) -> bool:
        """Active = the lab runs and reported activity within the inactive-after window."""
        if not lab.running or lab.last_activity is None:
            return False
        return (now - lab.last_activity).total_seconds() <= self.inactive_after_seconds

    # -- sampling -----------------------------------------------------------------------------
    async def sample_once(self, db=None) -> int:
        """One pass: a sample for every hub user, pruning, fresh scores. Returns samples removed."""
        labs = hub_labs(db or self._db)
        now = self.clock()
        now_dt = naive_utc(now)
        rows = [(lab.username, lab.server, self.recently_active(lab, now_dt)) for lab in labs]
        removed = await self.store.record(now, rows, now - self.retention_seconds, [lab.key for lab in labs])
        await self._recompute_scores()
        self._report_epoch += 1
        self.passes += 1
        self.last_pass = now
        return removed

    async def run(self) -> None:
        """The background sampler: one pass now, then one every sample interval."""
        interval = self.config.sample_interval
        log.info("activity sampler running: every %s s, samples in %s", interval, self.store.path)
        while True:
            started = time.monotonic()
            try:
                removed = await self.sample_once()
                if removed:
                    log.debug("activity sampler pruned %d samples", removed)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed pass must not end sampling for the hub's lifetime
                log.exception("activity sampler pass failed")
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    # -- scores -------------------------------------------------------------------------------
    async def _recompute_scores(self) -> dict:
        generation = self._generation
        scores = await self.store.scores(self.half_life_hours)
        if generation == self._generation:  # no rename/delete/reset slipped in meanwhile
            self._scores = scores
        return scores

    async def scores(self) -> dict[tuple[str, str], tuple[float | None, int]]:
        # a score changes only when samples change (see score.py), so passes and the hooks
        # below are the only times it is recomputed, never per request
        if self._scores is None:
            return await self._recompute_scores()
        return self._scores

    def _invalidate_scores(self) -> None:
        self._generation += 1
        self._scores = None
        self._report_epoch += 1

    def user_renamed(self, old: str, new: str) -> Awaitable[None]:
        """Queued at once, before any later pass; await the answer to know it is applied."""
        done = self.store.rename_user(old, new)
        self._invalidate_scores()
        self.volumes.invalidate()
        return done

    def user_deleted(self, name: str) -> Awaitable[None]:
        done = self.store.delete_user(name)
        self._invalidate_scores()
        self.volumes.invalidate()  # their volumes may be gone, and a newcomer may reuse the names
        return done

    async def reset(self) -> int:
        removed = await self.store.reset()
        self._invalidate_scores()
        return removed

    # -- engine figures -----------------------------------------------------------------------
    async def _fetch_stats(self) -> dict:
        names = list(self._stats_targets)
        stats = await self.runtime.container_stats(names) if names else {}
        self.stats_measured_at = self.clock()
        return stats

    async def lab_stats(self, labs: list[Lab], wait: bool = True) -> dict:
        """container name -> ContainerStats | None for the running labs, at most STATS_TTL old."""
        wanted = [lab_container(lab.username, lab.server) for lab in labs if lab.running]
        if not wanted:
            return {}
        cached = self.stats.value or {}
        if self.stats.fresh() and set(wanted) <= set(cached):
            return cached
        self._stats_targets = wanted
        if self.stats.fresh():  # a lab started since the last round: measure again
            self.stats.invalidate()
        if not wait:
            self.stats.refresh_soon()
            return cached
        return await self.stats.get()

    async def _fetch_volumes(self) -> dict[str, int | None]:
        info = await self.runtime.volumes(list(self._volume_targets), with_sizes=True)
        return {name: v.size_bytes for name, v in info.items() if v.exists}

    async def volume_sizes(self, labs: list[Lab]) -> dict[str, int | None]:
        """volume name -> bytes; old values are served while a refresh runs in the background."""
        of = self._volume_targets_of  # the same labs (see labs()) and volumes: the same names
        if of is None or of[0] is not labs or of[1] != self.volume_specs:
            self._volume_targets = list(dict.fromkeys(v for lab in labs for v in self.own_volumes(lab)))
            self._volume_targets_of = (labs, self.volume_specs)
        if self.volumes.value is not None:
            return await self.volumes.get(stale_ok=True)
        try:
            return await asyncio.wait_for(asyncio.shield(self.volumes.get()), VOLUME_WAIT)
        except asyncio.TimeoutError:
            return {}

    # -- the report the API and the page show -------------------------------------------------
    async def report(self, db) -> dict:
        """The report as a dict (built at most every REPORT_TTL seconds)."""
        return (await self.report_json(db)).data

    async def report_json(self, db, volume_specs: tuple[naming.UserVolume, ...] | None = None) -> Report:
        """What GET /hub/api/activity answers. ``volume_specs``: the configured per-user
        volumes (the spawner's ``user_volumes``), whose sizes it sums."""
        self.attach(db)
        if volume_specs is not None:
            self.volume_specs = tuple(volume_specs)
        labs = self.labs(db)  # the key that decides whether a report is current
        key = (self._report_epoch, tuple(labs), self.volume_specs)
        cached = self._report_cache
        if cached and cached[0] == key and time.monotonic() - cached[1] < REPORT_TTL:
            return cached[2]
        future = self._report_inflight.get(key)
        if future is None:
            future = self._report_inflight[key] = asyncio.ensure_future(self._build_report(labs))

            def done(f, key=key):
                self._report_inflight.pop(key, None)
                if not f.cancelled() and f.exception() is None:
                    self._report_cache = (key, time.monotonic(), f.result())

            future.add_done_callback(done)
        return await asyncio.shield(future)

    def invalidate_report(self) -> None:
        self._report_cache = None

    async def _build_report(self, labs: list[Lab]) -> Report:
        now = self.clock()
        now_dt = naive_utc(now)
        errors = []
        try:
            stats = await self.lab_stats(labs)
        except Exception as exc:  # the rest of the report is still useful without the engine
            log.warning("activity: container statistics unavailable: %s", exc)
            stats, errors = {}, [f"container statistics unavailable: {exc}"]
        try:
            sizes = await self.volume_sizes(labs)
        except Exception as exc:
            log.warning("activity: volume sizes unavailable: %s", exc)
            sizes, errors = {}, errors + [f"volume sizes unavailable: {exc}"]
        scores = await self.scores()
        rows = []
        # a row per server (the default one, "server": "", and each named one), as JSON text
        # remembered by everything it shows: a stopped server's row depends on nothing that
        # time changes, so between builds only running servers' rows are written again; new
        # volume sizes (every VOLUME_TTL) or volume settings write every row again
        context = (sizes, self.volume_specs, self.settings(NamedServers).shared_home)
        previous = self._rows if self._rows_context == context else {}
        current: dict[tuple, str] = {}
        for lab in labs:
            if lab.running:
                st = stats.get(lab_container(lab.username, lab.server))
                remaining = await seconds_until_stop(
                    self.settings, self.extensions, lab.username, lab.last_activity, lab.started, now_dt, lab.server
                )
                row_key: tuple = (lab, scores.get(lab.key), st, remaining, self.recently_active(lab, now_dt))
            else:
                row_key = (lab, scores.get(lab.key))
            text = previous.get(row_key) or self._row_json(sizes, *row_key)
            current[row_key] = text
            rows.append(text)
        self._rows, self._rows_context = current, context
        rest = {
            "timestamp": iso(now_dt),
            "stats_timestamp": iso(naive_utc(self.stats_measured_at)) if self.stats_measured_at else None,
            "errors": errors,
            "settings": {
                "sample_interval_seconds": self.config.sample_interval,
                "retention_days": self.config.retention_days,
                "half_life_hours": self.config.half_life,
                "inactive_after_minutes": self.config.inactive_after,
                "culling_enabled": self.settings(IdleCuller).enabled,
            },
        }
        text = '{"users":[' + ",".join(rows) + "]," + json.dumps(rest, separators=(",", ":"))[1:]
        # compressed once per build, off the event loop: 1000 users make ~250 KiB of JSON and a
        # few percent of that gzipped, sent again to every admin refreshing within the TTL
        return Report(text, await asyncio.to_thread(gzip.compress, text.encode(), 1))

    def _row_json(
        self,
        sizes: dict[str, int | None],
        lab: Lab,
        score: tuple[float | None, int] | None,
        st=None,
        remaining: int | None = None,
        recently_active: bool = False,
    ) -> str:
        score_value, count = score or (None, 0)
        row = {
            "username": lab.username,
            "server": lab.server,
            "server_active": lab.running,
            "recently_active": recently_active,
            "cpu_percent": st.cpu_percent if st else None,
            "memory_mb": round(st.memory_bytes / 2**20, 1) if st else None,
            "memory_percent": round(100.0 * st.memory_bytes / st.memory_limit_bytes, 1)
            if st and st.memory_limit_bytes
            else None,
            "time_remaining_seconds": remaining,
            "activity_score": None if score_value is None else round(100.0 * score_value, 1),
            "sample_count": count,
            "last_activity": iso(lab.last_activity),
            "volume_bytes": self._user_volume_bytes(lab, sizes),
        }
        return json.dumps(row, separators=(",", ":"))

    def own_volumes(self, lab: Lab) -> tuple[str, ...]:
        shared_home = self.settings(NamedServers).shared_home
        return lab_volumes(self.names, lab.identity, self.volume_specs, lab.server, shared_home)

    def _user_volume_bytes(self, lab: Lab, sizes: dict[str, int | None]) -> int | None:
        known = [size for v in self.own_volumes(lab) if (size := sizes.get(v)) is not None]
        return sum(known) if known else None


def monitor_for(platform) -> Monitor:
    """The hub's one monitor."""
    return platform.shared(
        "activity-monitor",
        lambda: Monitor(
            platform.settings,
            platform.data_dir,
            runtime=platform.runtime,
            store=store_for(platform),
            extensions=extension_store(platform),
            names=platform.volume_names,
        ),
    )
