"""The sampler, the report and the hooks against a real (in-memory) hub ORM, a controllable
clock and a counting stand-in for the container engine."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from jupyterhub import orm
from sqlalchemy import event

from stellars_hub import settings as settings_mod
from stellars_hub.activity.cache import SingleFlight
from stellars_hub.activity.monitor import Monitor, hub_labs
from stellars_hub.backends.docker.runtime import _parse_stats
from stellars_hub.features import configurables
from stellars_hub.runtime.base import ContainerStats, VolumeInfo
from stellars_hub.session import extension_store, seconds_until_stop

T0 = 1_800_000_000.0  # epoch seconds
H = 3600.0


def naive(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingRuntime:
    """Answers like the engine would for running labs; counts the rounds it is asked for."""

    def __init__(self):
        self.stats_calls = 0
        self.volume_calls = 0

    async def container_stats(self, names):
        self.stats_calls += 1
        await asyncio.sleep(0.05)  # an engine round takes time: concurrent callers overlap
        return {
            n: ContainerStats(cpu_percent=42.0, memory_bytes=256 * 2**20, memory_limit_bytes=1024 * 2**20)
            for n in names
        }

    async def volumes(self, names, with_sizes=False):
        self.volume_calls += 1
        return {n: VolumeInfo(n, True, 1000) for n in names}


@pytest.fixture
def hubdb():
    db = orm.new_session_factory("sqlite:///:memory:")()
    writes = []

    @event.listens_for(db.get_bind(), "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            writes.append(statement)

    db.writes = writes
    yield db
    db.close()


def add_user(db, name, running=False, last_activity=None):
    user = orm.User(name=name)
    db.add(user)
    if running or last_activity is not None:
        spawner = orm.Spawner(user=user, name="")
        spawner.last_activity = last_activity
        if running:
            spawner.server = orm.Server()
            spawner.started = naive(T0 - 24 * 3600)  # JupyterHub records every start
        db.add(spawner)
    db.commit()
    return user


def make_monitor(tmp_path, clock, **env):
    values = {
        "JUPYTERHUB_DATA_DIR": str(tmp_path),
        "JUPYTERHUB_ACTIVITYMON_INACTIVE_AFTER": "60",
        "JUPYTERHUB_ACTIVITYMON_HALF_LIFE": "24",
        "JUPYTERHUB_ACTIVITYMON_RETENTION_DAYS": "7",
        **env,
    }
    return Monitor(settings_mod.load(configurables(), values), tmp_path, clock=clock, runtime=CountingRuntime())


async def test_sampler_records_scores_and_prunes_with_a_controlled_clock(tmp_path, hubdb):
    clock = Clock(T0)
    add_user(hubdb, "ann", running=True, last_activity=naive(T0 - 10 * 60))  # active 10 min ago
    add_user(hubdb, "bob", running=True, last_activity=naive(T0 - 2 * H))  # running, idle for 2 h
    add_user(hubdb, "cy")  # never started a lab
    hubdb.writes.clear()
    m = make_monitor(tmp_path, clock)

    await m.sample_once(hubdb)
    assert await m.store.samples("ann") == [(T0, True)]
    assert await m.store.samples("bob") == [(T0, False)]
    assert await m.store.samples("cy") == [(T0, False)]

    clock.now = T0 + 24 * H  # a day later nobody has touched their lab
    await m.sample_once(hubdb)
    scores = await m.scores()
    assert scores[("ann", "")][0] == pytest.approx(0.5 / 1.5)  # active sample weighs 1/2, idle one 1
    assert scores[("ann", "")][1] == 2
    assert scores[("bob", "")] == (0.0, 2) and scores[("cy", "")] == (0.0, 2)

    clock.now = T0 + 24 * H + 7 * 24 * H + 1  # both older samples fall out of the 7-day window
    await m.sample_once(hubdb)
    assert await m.store.samples("ann") == [(clock.now, False)]
    assert (await m.scores())[("ann", "")] == (0.0, 1)
    assert await m.store.count() == 3

    assert hubdb.writes == []  # the hub's database was only read
    assert not hubdb.new and not hubdb.dirty and not hubdb.deleted


async def test_report_shows_status_stats_and_time_left(tmp_path, hubdb):
    clock = Clock(T0)
    add_user(hubdb, "ann", running=True, last_activity=naive(T0 - 10 * 60))
    add_user(hubdb, "bob", running=True, last_activity=naive(T0 - 2 * H))
    add_user(hubdb, "cy", last_activity=naive(T0 - 3 * H))  # had a lab once, stopped now
    m = make_monitor(tmp_path, clock, JUPYTERHUB_IDLE_CULLER_ENABLED="1", JUPYTERHUB_IDLE_CULLER_TIMEOUT="10800")
    await m.sample_once(hubdb)
    hubdb.writes.clear()

    report = await m.report(hubdb)
    rows = {u["username"]: u for u in report["users"]}
    ann, bob, cy = rows["ann"], rows["bob"], rows["cy"]
    assert (ann["server_active"], ann["recently_active"]) == (True, True)  # green
    assert (bob["server_active"], bob["recently_active"]) == (True, False)  # amber
    assert (cy["server_active"], cy["recently_active"]) == (False, False)  # red
    assert ann["cpu_percent"] == 42.0 and ann["memory_mb"] == 256.0 and ann["memory_percent"] == 25.0
    assert cy["cpu_percent"] is None and cy["memory_mb"] is None and cy["memory_percent"] is None
    assert ann["time_remaining_seconds"] == 3 * 3600 - 600
    assert bob["time_remaining_seconds"] == 3600
    assert cy["time_remaining_seconds"] is None
    assert cy["last_activity"] == naive(T0 - 3 * H).isoformat() + "Z"
    assert ann["activity_score"] == 100.0 and ann["sample_count"] == 1
    assert ann["volume_bytes"] == 3000  # three volumes of 1000 bytes
    assert hubdb.writes == []


async def test_ten_concurrent_reports_cost_one_round_of_engine_calls(tmp_path, hubdb):
    for i in range(5):
        add_user(hubdb, f"u{i}", running=True, last_activity=naive(T0))
    m = make_monitor(tmp_path, Clock(T0))
    await asyncio.gather(*(m.report(hubdb) for _ in range(10)))
    assert m._runtime.stats_calls == 1  # one round, all five labs in it
    assert m._runtime.volume_calls == 1
    m.invalidate_report()
    await m.report(hubdb)  # statistics still fresh
    assert m._runtime.stats_calls == 1
    m.stats.invalidate()  # the 10 s have passed
    m.invalidate_report()
    await m.report(hubdb)
    assert m._runtime.stats_calls == 2


async def test_single_flight_expires_after_ttl():
    now = [0.0]
    calls = []

    async def fetch():
        calls.append(now[0])
        await asyncio.sleep(0.01)
        return len(calls)

    cache = SingleFlight(10, fetch, clock=lambda: now[0])
    assert await asyncio.gather(*(cache.get() for _ in range(10))) == [1] * 10
    now[0] = 9.9
    assert await cache.get() == 1
    now[0] = 10.0
    assert await cache.get() == 2
    now[0] = 25.0
    assert await cache.get(stale_ok=True) == 2  # old value at once, refresh behind it
    await asyncio.sleep(0.05)
    assert cache.value == 3 and len(calls) == 3


async def test_samples_follow_rename_and_vanish_with_delete(tmp_path, hubdb):
    # the hub calls these hooks after a committed rename and when it deletes a user
    m = make_monitor(tmp_path, Clock(T0))
    user = add_user(hubdb, "ann", running=True, last_activity=naive(T0))
    add_user(hubdb, "bob")
    await m.sample_once(hubdb)
    m.clock.now = T0 + 600
    await m.sample_once(hubdb)
    assert (await m.scores())[("ann", "")] == (1.0, 2)

    for spawner in user._orm_spawners:  # renames happen with the lab stopped (accounts refuses others)
        spawner.server = None
    user.name = "anna"
    hubdb.commit()
    await m.user_renamed("ann", "anna")
    assert await m.store.samples("ann") == []
    assert await m.store.samples("anna") == [(T0, True), (T0 + 600, True)]
    assert (await m.scores())[("anna", "")] == (1.0, 2) and ("ann", "") not in await m.scores()

    await m.user_deleted("anna")
    hubdb.delete(user)
    hubdb.commit()
    assert await m.store.samples("anna") == []
    assert set(await m.scores()) == {("bob", "")}


async def test_reset_clears_all_history(tmp_path, hubdb):
    add_user(hubdb, "ann", running=True, last_activity=naive(T0))
    m = make_monitor(tmp_path, Clock(T0))
    await m.sample_once(hubdb)
    assert await m.reset() == 1
    assert await m.store.count() == 0
    assert await m.scores() == {}


async def test_samples_survive_a_restart(tmp_path, hubdb):
    add_user(hubdb, "ann", running=True, last_activity=naive(T0))
    m = make_monitor(tmp_path, Clock(T0))
    await m.sample_once(hubdb)
    m.store.close()
    again = make_monitor(tmp_path, Clock(T0 + 600))
    assert (await again.scores())[("ann", "")] == (1.0, 1)


async def test_time_left_before_culling_is_the_culler_deadline_with_extensions(tmp_path):
    env = {
        "JUPYTERHUB_DATA_DIR": str(tmp_path),
        "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
        "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",
    }
    on = settings_mod.load(configurables(), env)
    off = settings_mod.load(configurables(), {**env, "JUPYTERHUB_IDLE_CULLER_ENABLED": "0"})
    now = naive(T0)
    started = now - timedelta(hours=1)
    extensions = extension_store(data_dir=tmp_path)
    assert await seconds_until_stop(on, extensions, "ann", now - timedelta(minutes=10), started, now) == 3000
    assert await seconds_until_stop(on, extensions, "ann", now - timedelta(hours=2), started, now) == 0  # overdue
    assert await seconds_until_stop(on, extensions, "ann", now, None, now) is None  # not started
    assert await seconds_until_stop(off, extensions, "ann", now, started, now) is None
    await extensions.add("ann", started, 2, 24)  # the user extended by 2 hours
    assert await seconds_until_stop(on, extensions, "ann", now - timedelta(minutes=10), started, now) == 3000 + 2 * 3600
    extensions.close()


def test_engine_stats_document_to_percentages():
    raw = {
        "cpu_stats": {
            "cpu_usage": {"total_usage": 3_000_000_000},
            "system_cpu_usage": 20_000_000_000,
            "online_cpus": 2,
        },
        "precpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000}, "system_cpu_usage": 18_000_000_000},
        "memory_stats": {"usage": 300 * 2**20, "limit": 1000 * 2**20, "stats": {"inactive_file": 44 * 2**20}},
    }
    st = _parse_stats(raw)
    assert st.cpu_percent == 100.0  # 1 s of CPU in 2 s of system time on 2 cores = one core
    assert st.memory_bytes == 256 * 2**20 and st.memory_limit_bytes == 1000 * 2**20
    assert _parse_stats({"cpu_stats": {}, "precpu_stats": {}, "memory_stats": {}}) is None  # stopped


async def test_report_is_shared_but_follows_server_changes_at_once(tmp_path, hubdb):
    user = add_user(hubdb, "ann", running=True, last_activity=naive(T0))
    m = make_monitor(tmp_path, Clock(T0))
    first = await m.report(hubdb)
    assert first["users"][0]["server_active"]
    assert await m.report(hubdb) is first  # same hub state within REPORT_TTL: the same report

    spawner = hubdb.query(orm.Spawner).filter_by(user_id=user.id).one()
    spawner.server = None  # the lab stops
    hubdb.commit()
    after = await m.report(hubdb)
    assert after is not first and not after["users"][0]["server_active"]
    assert after["users"][0]["cpu_percent"] is None


async def test_report_without_the_engine_still_shows_scores(tmp_path, hubdb):
    from stellars_hub.runtime.base import EngineUnavailable

    class DownRuntime:
        async def container_stats(self, names):
            raise EngineUnavailable("the Docker engine is not reachable")

        async def volumes(self, names, with_sizes=False):
            raise EngineUnavailable("the Docker engine is not reachable")

    add_user(hubdb, "ann", running=True, last_activity=naive(T0))
    m = Monitor(
        settings_mod.load(configurables(), {"JUPYTERHUB_DATA_DIR": str(tmp_path)}),
        tmp_path,
        clock=Clock(T0),
        runtime=DownRuntime(),
    )
    await m.sample_once(hubdb)
    report = await m.report(hubdb)
    ann = report["users"][0]
    assert ann["server_active"] and ann["recently_active"] and ann["activity_score"] == 100.0
    assert ann["cpu_percent"] is None and ann["volume_bytes"] is None
    assert any("not reachable" in e for e in report["errors"])


def test_hub_labs_lists_every_default_server_then_named_ones(hubdb):
    add_user(hubdb, "cy")  # never started anything: no spawner row
    ann = add_user(hubdb, "ann", running=True, last_activity=naive(T0))
    bob = add_user(hubdb, "bob")
    hubdb.add(orm.Spawner(user=bob, name="gpu", last_activity=naive(T0 - H)))  # named server only
    hubdb.add(orm.Spawner(user=ann, name="b", server=orm.Server(), started=naive(T0 - H)))
    hubdb.add(orm.Spawner(user=ann, name="a"))
    hubdb.commit()
    labs = hub_labs(hubdb)
    assert [(lab.username, lab.server, lab.running) for lab in labs] == [
        ("ann", "", True),
        ("ann", "a", False),
        ("ann", "b", True),
        ("bob", "", False),
        ("bob", "gpu", False),  # bob's default server still has its row
        ("cy", "", False),
    ]
    assert labs[0].last_activity == naive(T0) and labs[2].started == naive(T0 - H)
    assert labs[4].last_activity == naive(T0 - H) and labs[4].started is None
    assert labs[0].identity == labs[1].identity != labs[3].identity


async def test_quiet_hub_is_read_again_only_after_it_writes(tmp_path, hubdb):
    user = add_user(hubdb, "ann")
    m = make_monitor(tmp_path, Clock(T0))
    reads = []
    event.listen(
        hubdb.get_bind(),
        "before_cursor_execute",
        lambda conn, cursor, statement, *a: reads.append(statement) if "FROM spawners" in statement else None,
    )
    first = m.labs(hubdb)
    assert m.labs(hubdb) is first and len(reads) == 1  # nothing committed: not read again
    assert not (await m.report(hubdb))["users"][0]["server_active"]

    spawner = orm.Spawner(user=user, name="", server=orm.Server(), started=naive(T0))
    hubdb.add(spawner)
    hubdb.commit()  # any committed write is seen by the next refresh
    assert m.labs(hubdb)[0].running and len(reads) == 2
    assert (await m.report(hubdb))["users"][0]["server_active"]


async def test_rows_are_written_again_when_what_they_show_changes(tmp_path, hubdb):
    add_user(hubdb, "ann", last_activity=naive(T0 - H))  # stopped: its row is reused between builds
    m = make_monitor(tmp_path, Clock(T0))
    await m.sample_once(hubdb)
    before = (await m.report(hubdb))["users"][0]
    assert before["activity_score"] == 0.0 and before["volume_bytes"] == 3000
    m.invalidate_report()
    assert (await m.report(hubdb))["users"][0] == before

    m.clock.now = T0 + 600
    m._runtime.volumes = lambda names, with_sizes=False: _sizes(names, 5)
    m.volumes.invalidate()
    await m.volumes.get()  # new sizes arrive
    m.invalidate_report()
    assert (await m.report(hubdb))["users"][0]["volume_bytes"] == 15


async def _sizes(names, size):
    return {n: VolumeInfo(n, True, size) for n in names}
