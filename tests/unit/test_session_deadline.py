"""The one deadline computation, the store behind extensions, and the culler's arbiter."""

import os
from datetime import datetime, timedelta, timezone

import pytest
from jupyterhub.utils import isoformat

from stellars_hub.errors import BadRequest
from stellars_hub.session import deadline as dl
from stellars_hub.session import sessions
from stellars_hub.session.config import IdleCuller
from stellars_hub.session.culler import Arbiter
from stellars_hub.session.store import ExtensionStore
from stellars_hub.web.errors import translate

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456)  # naive UTC, as JupyterHub stores it
POLICY = dl.Policy(enabled=True, timeout=600, interval=60, max_age=0, max_extension_hours=3, warning=120)


def test_policy_defaults_from_settings(monkeypatch):
    for name in [n for n in os.environ if n.startswith("JUPYTERHUB_IDLE_CULLER_")]:
        monkeypatch.delenv(name)
    p = dl.Policy.from_config(IdleCuller())
    assert (p.enabled, p.timeout, p.interval, p.max_age, p.max_extension_hours, p.warning, p.hour_seconds) == (
        False,
        86400,
        600,
        0,
        24,
        900,
        3600,
    )


def test_naive_and_aware_and_api_strings_compare_alike():
    aware = T0.replace(tzinfo=timezone.utc)
    assert dl.naive_utc(aware) == T0
    assert dl.naive_utc(isoformat(T0)) == T0  # what the REST API writes
    assert dl.naive_utc(aware.astimezone(timezone(timedelta(hours=5)))) == T0
    assert dl.start_key(isoformat(T0)) == dl.start_key(T0) == dl.start_key(aware)


def test_idle_deadline_counts_from_server_activity_plus_extensions():
    last = T0 + timedelta(minutes=5)
    d = dl.compute(POLICY, last_activity=last, started=T0, extension_hours=2)
    assert d.unextended_at == last + timedelta(seconds=600)
    assert d.at == d.idle_at == last + timedelta(seconds=600 + 2 * 3600)
    assert d.reason == dl.IDLE and d.extended
    assert d.remaining(last) == 600 + 7200


def test_no_activity_yet_counts_from_start():
    d = dl.compute(POLICY, last_activity=None, started=T0, extension_hours=0)
    assert d.at == T0 + timedelta(seconds=600)


def test_max_age_is_not_extended():
    policy = dl.Policy(enabled=True, timeout=600, interval=60, max_age=1800, max_extension_hours=3, warning=0)
    busy = dl.compute(policy, last_activity=T0 + timedelta(seconds=1700), started=T0, extension_hours=3)
    assert busy.reason == dl.MAX_AGE and busy.at == T0 + timedelta(seconds=1800)
    idle = dl.compute(policy, last_activity=T0, started=T0, extension_hours=0)
    assert idle.reason == dl.IDLE and idle.at == T0 + timedelta(seconds=600)


def test_decisions():
    d = dl.compute(POLICY, last_activity=T0, started=T0, extension_hours=1)
    assert dl.decide(d, T0 + timedelta(seconds=599)) == dl.KEEP
    assert dl.decide(d, T0 + timedelta(seconds=600)) == dl.SPARE  # original deadline passed
    assert dl.decide(d, d.at - timedelta(seconds=1)) == dl.SPARE
    assert dl.decide(d, d.at) == dl.CULL
    plain = dl.compute(POLICY, last_activity=T0, started=T0, extension_hours=0)
    assert dl.decide(plain, T0 + timedelta(seconds=600)) == dl.CULL


def test_warning_comes_at_the_last_pass_before_the_notice_period():
    # warning 120 s, passes every 60 s: warn while 0 < remaining <= 180
    assert not dl.warning_due(POLICY, 181)
    assert dl.warning_due(POLICY, 180) and dl.warning_due(POLICY, 1)
    assert not dl.warning_due(POLICY, 0)
    off = dl.Policy(enabled=True, timeout=600, interval=60, max_age=0, max_extension_hours=3, warning=0)
    assert not dl.warning_due(off, 10)


async def test_store_allowance_per_start_cumulative_and_truncated(tmp_path):
    store = ExtensionStore(tmp_path / "s.sqlite")
    assert await store.hours("ann", T0) == 0
    assert not (tmp_path / "s.sqlite").exists()  # reading never creates the file
    assert await store.add("ann", T0, 1, limit=3) == (1, 1)
    assert await store.add("ann", T0, 1, limit=3) == (1, 2)
    assert await store.add("ann", T0, 5, limit=3) == (1, 3)  # cut to what is left
    assert await store.add("ann", T0, 1, limit=3) == (0, 3)
    # a fresh start of the server: a fresh allowance
    later = T0 + timedelta(hours=1)
    assert await store.hours("ann", later) == 0
    assert await store.add("ann", later, 2, limit=3) == (2, 2)
    assert await store.hours("ann", T0) == 0  # the old start's row is gone with it
    # another process (the culler) sees the same value, keyed by the API's timestamp string
    assert await ExtensionStore(tmp_path / "s.sqlite").hours("ann", isoformat(later)) == 2


async def test_store_warning_marks_and_user_events(tmp_path):
    store = ExtensionStore(tmp_path / "s.sqlite")
    await store.mark_warned("ann", T0, "2026-01-01T12:10:00Z")
    assert await store.warned_for("ann", T0) == "2026-01-01T12:10:00Z"
    assert await store.add("ann", T0, 2, limit=3) == (2, 2)
    assert await store.warned_for("ann", T0) == "2026-01-01T12:10:00Z"  # kept by an extension
    await store.rename_user("ann", "anna")
    assert await store.hours("ann", T0) == 0 and await store.hours("anna", T0) == 2
    await store.delete_user("anna")
    assert await store.hours("anna", T0) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"hours": 1.5},
        {"hours": 2.0},
        {"hours": "2"},
        {"hours": 0},
        {"hours": -1},
        {"hours": True},
        {"hours": None},
        {"hours": 10**9},
        {"hours": 721},
        {},
        [],
        "2",
    ],
)
def test_bad_hours_are_400(body):
    with pytest.raises(BadRequest) as err:
        sessions.parse_hours(body)
    assert translate(err.value).status_code == 400


def test_good_hours():
    assert sessions.parse_hours({"hours": 1}) == 1
    assert sessions.parse_hours({"hours": 720}) == 720


class FakeStore:
    def __init__(self, hours):
        self._hours = hours
        self.asked = []

    async def hours(self, username, started, server=""):
        self.asked.append((username, dl.start_key(started)) + ((server,) if server else ()))
        return self._hours

    async def limits(self, username, started, server=""):
        return None  # no limits recorded for the start: the site's


async def _arbiter_says(store, server, now, warned=None):
    calls = []

    async def warn(username, server=""):
        calls.append(f"{username}/{server}" if server else username)
        return warned or {"warned": False, "reason": "not due"}

    arbiter = Arbiter(POLICY, store, warn, clock=lambda: now)
    verdict = await arbiter(inactive=timedelta(0), inactive_limit=POLICY.timeout, server=server)
    return verdict, calls


def _server_model(last_activity, started, name=""):
    """The fields of JupyterHub's server model the arbiter reads, written the way the API writes them."""
    return {
        "name": name,
        "full_name": f"ann/{name}",
        "last_activity": isoformat(last_activity),
        "started": isoformat(started),
        "ready": True,
        "pending": None,
    }


async def test_arbiter_applies_the_same_deadline_as_session_info(caplog):
    caplog.set_level("INFO", logger="stellars_hub.session.culler")
    server = _server_model(T0, T0)
    store = FakeStore(1)
    d = dl.compute(POLICY, last_activity=T0, started=T0, extension_hours=1)  # what session-info computes
    assert (await _arbiter_says(store, server, d.at - timedelta(microseconds=1)))[0] is False
    assert (await _arbiter_says(store, server, d.at))[0] is True
    assert store.asked[0] == ("ann", dl.start_key(T0))
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("spared ann: idle past") for line in lines)
    assert any(line.startswith("culled ann: idle since") for line in lines)


async def test_arbiter_asks_for_a_warning_only_when_due(caplog):
    caplog.set_level("INFO", logger="stellars_hub.session.culler")
    server = _server_model(T0, T0)
    _, calls = await _arbiter_says(FakeStore(0), server, T0 + timedelta(seconds=600 - 181))
    assert calls == []
    answer = {"warned": True, "deadline": "x", "stop_reason": "idle"}
    verdict, calls = await _arbiter_says(FakeStore(0), server, T0 + timedelta(seconds=600 - 170), warned=answer)
    assert verdict is False and calls == ["ann"]
    assert any(r.getMessage().startswith("warned ann: stop due at") for r in caplog.records)


async def test_a_named_server_has_its_own_extension_and_warning(caplog):
    caplog.set_level("INFO", logger="stellars_hub.session.culler")
    server = _server_model(T0, T0, name="gpu")
    store = FakeStore(1)
    d = dl.compute(POLICY, last_activity=T0, started=T0, extension_hours=1)
    assert (await _arbiter_says(store, server, d.at - timedelta(microseconds=1)))[0] is False  # extended
    assert store.asked[0] == ("ann", dl.start_key(T0), "gpu")  # that server's own extension
    answer = {"warned": True, "deadline": "x", "stop_reason": "idle"}
    _, calls = await _arbiter_says(FakeStore(0), server, T0 + timedelta(seconds=600 - 170), warned=answer)
    assert calls == ["ann/gpu"]  # the warning goes to the named lab about to stop
    assert (await _arbiter_says(store, server, d.at))[0] is True
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("warned ann/gpu:") for line in lines)
    assert any(line.startswith("culled ann/gpu: idle since") for line in lines)


def test_culler_service_gets_only_its_scopes(tmp_path):
    from traitlets.config import Config

    from stellars_hub import hubconfig
    from stellars_hub.session.feature import SERVICE_SCOPES

    c = Config()
    hubconfig.apply(
        c,
        {
            "JUPYTERHUB_DATA_DIR": str(tmp_path),
            "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
            "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "120",
        },
    )
    [service] = c.JupyterHub.services
    assert service["name"] == "idle-culler" and service["command"][-1] == "stellars_hub.session.culler"
    assert service["environment"]["JUPYTERHUB_IDLE_CULLER_TIMEOUT"] == "120"
    [role] = [r for r in c.JupyterHub.load_roles if r["name"] == "idle-culler"]
    assert role["services"] == ["idle-culler"]
    assert (
        sorted(role["scopes"])
        == sorted(SERVICE_SCOPES)
        == sorted(["list:users", "read:servers", "delete:servers", "custom:session:warn", "custom:session:activity"])
    )
    off = Config()
    hubconfig.apply(off, {"JUPYTERHUB_DATA_DIR": str(tmp_path)})
    assert "services" not in off.JupyterHub
