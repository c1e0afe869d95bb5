"""Culling that knows who is busy, without an engine: per-group idle timeout and maximum age
(most generous wins), the GPU defaults, a limit of 0, what a lab's own answers say, and the
arbiter asking the lab before it warns or stops."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from jupyterhub.utils import isoformat

from stellars_hub.policies.merge import Defaults, merge
from stellars_hub.policies.model import PolicyError, validate
from stellars_hub.session import busy
from stellars_hub.session import deadline as dl
from stellars_hub.session.config import IdleCuller
from stellars_hub.session.culler import Arbiter
from stellars_hub.session.limits import Limits, culling_limits

T0 = datetime(2026, 1, 1, 12, 0, 0)
POLICY = dl.Policy(enabled=True, timeout=600, interval=60, max_age=0, max_extension_hours=3, warning=120)
DEFAULTS = Defaults(memory_mb=8192, cpus=4, pids=4096, gpus="none")


def test_policy_fields_are_validated_and_the_most_generous_group_wins():
    assert validate({"idle_timeout_seconds": 3600, "max_age_seconds": 0}, host_paths=[]) == {
        "idle_timeout_seconds": 3600,
        "max_age_seconds": 0,
    }
    for bad in (
        {"idle_timeout_seconds": 5},
        {"idle_timeout_seconds": 1.5},
        {"max_age_seconds": "1h"},
        {"max_age_seconds": True},
    ):
        with pytest.raises(PolicyError) as err:
            validate(bad, host_paths=[])
        assert str(err.value).startswith(next(iter(bad)))
    eff = merge(
        DEFAULTS,
        {
            "a": {"idle_timeout_seconds": 3600},
            "b": {"idle_timeout_seconds": 7200},
            "c": {"max_age_seconds": 0},
            "d": {"max_age_seconds": 86400},
        },
    )
    assert eff.idle_timeout_seconds == 7200 and eff.sources["idle_timeout_seconds"] == ["b"]
    assert eff.max_age_seconds == 0 and eff.sources["max_age_seconds"] == ["c"]  # 0: no limit, the most
    none = merge(DEFAULTS, {"a": {"memory_mb": 1024}})
    assert none.idle_timeout_seconds is None and none.max_age_seconds is None  # the site's apply


def test_limits_come_from_groups_then_gpu_defaults_then_the_site():
    site = IdleCuller(timeout=86400, max_age=0, gpu_timeout=1800, gpu_max_age=43200)
    assert culling_limits(site, idle_timeout=None, max_age=None, gpus=False) == Limits(86400, 0, "default")
    gpu = culling_limits(site, idle_timeout=None, max_age=None, gpus=True)
    assert (gpu.timeout, gpu.max_age, gpu.source) == (1800, 43200, "GPU default")
    group = culling_limits(site, idle_timeout=7200, max_age=None, gpus=True, timeout_from=["ml"])
    assert (group.timeout, group.max_age) == (7200, 43200)
    assert group.source == "idle timeout from group ml; GPU default"
    plain = IdleCuller(timeout=600, max_age=0)  # no GPU defaults: GPUs get the site's
    assert culling_limits(plain, idle_timeout=None, max_age=None, gpus=True).timeout == 600


def test_a_start_without_an_idle_limit_is_never_culled_for_idleness_but_ages():
    never = POLICY.for_start(0, 0)
    d = dl.compute(never, last_activity=T0, started=T0, extension_hours=0)
    assert d.never and dl.iso(d.at) is None and dl.decide(d, T0 + timedelta(days=999)) == dl.KEEP
    assert not dl.warning_due(never, d.remaining(T0)) and not dl.near(never, d, T0)
    aged = dl.compute(POLICY.for_start(0, 3600), last_activity=T0, started=T0, extension_hours=1)
    assert aged.reason == dl.MAX_AGE and dl.decide(aged, T0 + timedelta(hours=1)) == dl.CULL


def test_what_the_labs_answers_say():
    now = T0 + timedelta(hours=1)
    idle = busy.read(
        {"last_activity": isoformat(T0)}, [{"execution_state": "idle", "last_activity": isoformat(T0)}], [], now
    )
    assert not idle.busy and idle.last_activity == T0
    running = busy.read(
        {"last_activity": isoformat(T0)}, [{"execution_state": "busy", "last_activity": isoformat(T0)}] * 2, [], now
    )
    assert running.busy and running.last_activity == now and running.reason == "2 kernels running code"
    terminal = busy.read(
        {"last_activity": isoformat(T0)},
        [],
        [{"name": "1", "last_activity": isoformat(T0 + timedelta(minutes=50))}],
        now,
    )
    assert not terminal.busy and terminal.last_activity == T0 + timedelta(minutes=50) and terminal.terminals == 1


class FakeStore:
    async def hours(self, username, started, server=""):
        return 0

    async def limits(self, username, started, server=""):
        return None


def server_model(last_activity, started):
    return {
        "name": "",
        "full_name": "ann/",
        "last_activity": isoformat(last_activity),
        "started": isoformat(started),
        "ready": True,
        "pending": None,
    }


async def verdict(now, lab_answer):
    asked, warned = [], []

    async def ask(username, server=""):
        asked.append(username)
        return lab_answer

    async def warn(username, server=""):
        warned.append(username)
        return {"warned": True, "deadline": "x", "stop_reason": "idle"}

    arbiter = Arbiter(POLICY, FakeStore(), warn, clock=lambda: now, ask_lab=ask)
    return await arbiter(server=server_model(T0, T0)), asked, warned


async def test_the_arbiter_asks_the_lab_before_warning_or_stopping_and_spares_a_busy_one():
    due = T0 + timedelta(seconds=700)
    # far from the deadline: the lab is not asked
    assert await verdict(T0 + timedelta(seconds=60), {}) == (False, [], [])
    # due, the lab busy: its activity is now, nothing is warned or stopped
    stop, asked, warned = await verdict(
        due, {"busy": True, "reason": "1 kernel running code", "last_activity": isoformat(due)}
    )
    assert (stop, asked, warned) == (False, ["ann"], [])
    # due and idle by the lab's own account: stopped
    stop, asked, _ = await verdict(due, {"busy": False, "last_activity": isoformat(T0)})
    assert stop is True and asked == ["ann"]
    # the lab did not answer: the hub's record decides
    stop, _, _ = await verdict(due, {"busy": False, "reason": "the hub answered 502: ..."})
    assert stop is True
    # close to the deadline, the lab's terminal was used 5 minutes ago: no warning yet
    soon = T0 + timedelta(seconds=500)
    stop, asked, warned = await verdict(soon, {"busy": False, "last_activity": isoformat(soon - timedelta(minutes=5))})
    assert (stop, asked, warned) == (False, ["ann"], [])
