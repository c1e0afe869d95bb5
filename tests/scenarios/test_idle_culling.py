"""Idle culling on both backends, timeouts made short: an idle lab is warned inside the lab and
then stopped, an active lab keeps running, an idle named server is stopped while its user's
active default server is not, and an extension postpones the stop the culler applies. The four
labs start side by side and are watched together, so the scenario takes one timeout, not four."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from steps import direct_queue, servers, start_all, wait_for

from stellars_hub import naming

# the timeout outlasts the start of all four labs (the hub starts a few at a time)
TIMEOUT, INTERVAL, WARNING, HOUR, MAX_EXT = 75, 2, 20, 20, 3
HUB_ENV = {
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": str(TIMEOUT),
    "JUPYTERHUB_IDLE_CULLER_INTERVAL": str(INTERVAL),
    "JUPYTERHUB_IDLE_CULLER_WARNING": str(WARNING),
    "JUPYTERHUB_IDLE_CULLER_HOUR_SECONDS": str(HOUR),  # one "hour" of extension lasts 20 s here
    "JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION": str(MAX_EXT),
    "JUPYTERHUB_NAMED_SERVERS": "1",
}
KUBE_VOLUMES = 0  # nothing here is measured
NAMED = "quiet"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def culler_lines(hub, word: str, target: str) -> list[str]:
    return [line for line in hub.log_text().splitlines() if f"idle-culler] {word} {target}:" in line]


@pytest.fixture(scope="module")
def people(hub):
    people = {label: hub.new_user(label) for label in ("busy", "ext", "idle")}
    (busy, busy_s) = people["busy"]
    start_all(hub, [(busy_s, busy, ""), (busy_s, busy, NAMED)] + [(s, n, "") for n, s in list(people.values())[1:]])
    return people


def test_idle_labs_are_warned_then_stopped_and_active_or_extended_ones_are_not(hub, lab_engine, people):
    (idle, idle_s), (busy, _), (ext, ext_s) = people["idle"], people["busy"], people["ext"]
    tokens = {n: hub.token_for(n) for n in (idle, busy)}
    named_lab = naming.server_container_name(busy, NAMED)
    direct = {"idle": lab_engine.lab(naming.container_name(idle)).env, NAMED: lab_engine.lab(named_lab).env}

    # the extension: one (test-length) hour later than before, give or take the seconds between calls
    before = hub.api(ext_s, "GET", f"users/{ext}/session-info").json()
    r = hub.api(ext_s, "POST", f"users/{ext}/extend-session", json={"hours": 1})
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["extension_used_hours"] == 1 and after["truncated"] is False
    assert HOUR - 3 <= after["time_remaining_seconds"] - before["time_remaining_seconds"] <= HOUR + 1
    original = parse(after["last_activity"]) + timedelta(seconds=TIMEOUT)
    extended = parse(after["deadline"])
    assert extended == original + timedelta(seconds=HOUR)

    info = hub.api(idle_s, "GET", f"users/{idle}/session-info").json()
    assert info["culler_enabled"] and info["server_active"] and info["timeout_seconds"] == TIMEOUT
    assert 0 < info["time_remaining_seconds"] <= TIMEOUT

    def keep_busy():
        # the busy user's default lab reports activity; the idle user keeps visiting hub pages,
        # which is the user's activity, not the lab's
        r = hub.api(
            None,
            "POST",
            f"users/{busy}/activity",
            token=tokens[busy],
            json={"servers": {"": {"last_activity": now_iso()}}},
        )
        assert r.status_code in (200, 204), r.text
        assert idle_s.get(hub.hub_url + "home").status_code == 200

    # the warnings reach the idle labs' notification queues while the labs still run
    seen: dict[str, list] = {"idle": [], NAMED: []}

    def warned():
        for key, env in direct.items():
            if not seen[key]:
                seen[key] += direct_queue(env, tokens[idle if key == "idle" else busy])
        return all(seen.values())

    keep_busy()
    wait_for(warned, TIMEOUT + 15 * INTERVAL, "the warnings in both idle labs", also=keep_busy)
    for key in seen:
        warning = seen[key][0]
        assert warning["type"] == "warning" and "will be stopped" in warning["message"], warning
        assert "extend your session" in warning["message"]
    assert culler_lines(hub, "warned", idle) and culler_lines(hub, "warned", f"{busy}/{NAMED}")

    # then the idle labs are stopped (their labs gone); the busy user's default lab is not
    wait_for(
        lambda: "" not in servers(hub, idle) and NAMED not in servers(hub, busy),
        TIMEOUT + 15 * INTERVAL,
        "the idle labs stopped",
        also=keep_busy,
    )
    lab_engine.wait_gone(naming.container_name(idle))
    lab_engine.wait_gone(named_lab)
    assert culler_lines(hub, "culled", idle) and culler_lines(hub, "culled", f"{busy}/{NAMED}")
    # the extended lab lives well past its original deadline (several culler passes), and the culler says why
    wait_for(
        lambda: datetime.now(timezone.utc) > original + timedelta(seconds=3 * INTERVAL), 90, "passes", also=keep_busy
    )
    assert servers(hub, ext)[""]["ready"]
    assert culler_lines(hub, "spared", ext)
    # and is stopped after the extended one
    wait_for(lambda: "" not in servers(hub, ext), HOUR + 15 * INTERVAL + 30, "the extended lab stopped", also=keep_busy)
    assert datetime.now(timezone.utc) >= extended
    lines = culler_lines(hub, "culled", ext)
    assert lines and "1 h extension" in lines[0]

    # the busy lab, past its own first deadline by now: still running, never warned twice
    assert servers(hub, busy)[""]["ready"] and lab_engine.lab(naming.container_name(busy)).running
    assert not culler_lines(hub, "culled", busy)
    assert len(culler_lines(hub, "warned", idle)) == 1  # once per deadline, though several passes saw it due
