"""Idle culling on both backends, timeouts made short: an idle lab is warned inside the lab and
then stopped, an active lab keeps running, an idle named server is stopped while its user's
active default server is not, and an extension postpones the stop the culler applies. The four
labs start side by side and are watched together, so the scenario takes one timeout, not four."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from steps import direct_queue, servers, start_all

from stellars_hub import naming

# the timeout outlasts the start of three labs (the hub starts a few at a time)
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


def report_activity(hub, name: str, token: str, server: str = "") -> None:
    """The lab's activity, as a lab reports it to the hub."""
    body = {"servers": {server: {"last_activity": now_iso()}}}
    r = hub.api(None, "POST", f"users/{name}/activity", token=token, json=body)
    assert r.status_code in (200, 204), r.text


@pytest.fixture(scope="module")
def people(hub):
    """The busy user's default lab first (kept busy from then on), then the busy user's named
    server, the user to extend and the idle user, side by side. Every lab that is up counts as
    active until the last is up (a loaded machine may take minutes to start them), so each idle
    clock starts with the scenario, not with its own lab."""
    people = {label: hub.new_user(label) for label in ("busy", "ext", "idle")}
    tokens = {name: hub.token_for(name) for name, _ in people.values()}
    busy, busy_s = people["busy"]
    start_all(hub, [(busy_s, busy, "")])

    def all_up_active():
        for name, _ in people.values():
            for server, model in servers(hub, name).items():
                if model.get("ready"):
                    report_activity(hub, name, tokens[name], server)

    start_all(
        hub,
        [(busy_s, busy, NAMED)] + [(s, n, "") for n, s in list(people.values())[1:]],
        also=all_up_active,
    )
    return {**people, "busy_token": tokens[busy]}


def test_idle_labs_are_warned_then_stopped_and_active_or_extended_ones_are_not(hub, lab_engine, people):
    (idle, idle_s), (busy, _), (ext, ext_s) = people["idle"], people["busy"], people["ext"]
    tokens = {idle: hub.token_for(idle), busy: people["busy_token"]}
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
        report_activity(hub, busy, tokens[busy])
        assert idle_s.get(hub.hub_url + "home").status_code == 200

    # one watch over all four labs, each event noted when it is seen (they overlap in time)
    seen: dict[str, list] = {"idle": [], NAMED: []}  # what reached each idle lab's queue
    stopped: dict[str, datetime] = {}
    ext_alive_after_original = False
    deadline = time.monotonic() + TIMEOUT + HOUR + 30 * INTERVAL + 60
    while len(stopped) < 3:
        assert time.monotonic() < deadline, f"not every idle lab stopped: {stopped}, warnings {seen}"
        keep_busy()
        now = datetime.now(timezone.utc)
        running = {
            "idle": "" in servers(hub, idle),
            NAMED: NAMED in servers(hub, busy),
            "ext": bool(servers(hub, ext).get("", {}).get("ready")),
        }
        for key, env in direct.items():  # the warning arrives while the lab still runs
            if running[key] and not seen[key]:
                try:
                    seen[key] += direct_queue(env, tokens[idle if key == "idle" else busy])
                except requests.RequestException:
                    pass  # stopping this very moment
        if running["ext"] and now > original + timedelta(seconds=3 * INTERVAL):
            ext_alive_after_original = True
        for key, up in running.items():
            if not up:
                stopped.setdefault(key, now)
        time.sleep(1)

    # the warnings reached the idle labs before they were stopped
    for key in seen:
        assert seen[key], f"no warning reached the {key} lab"
        warning = seen[key][0]
        assert warning["type"] == "warning" and "will be stopped" in warning["message"], warning
        assert "extend your session" in warning["message"]
    assert culler_lines(hub, "warned", idle) and culler_lines(hub, "warned", f"{busy}/{NAMED}")
    # the idle labs are gone, and the culler says so
    lab_engine.wait_gone(naming.container_name(idle))
    lab_engine.wait_gone(named_lab)
    assert culler_lines(hub, "culled", idle) and culler_lines(hub, "culled", f"{busy}/{NAMED}")
    # the extended lab lived well past its original deadline (several culler passes), the culler
    # said why, and it was stopped after the extended one
    assert ext_alive_after_original and culler_lines(hub, "spared", ext)
    assert stopped["ext"] >= extended
    lines = culler_lines(hub, "culled", ext)
    assert lines and "1 h extension" in lines[0]

    # the busy lab, past its own first deadline by now: still running, never warned twice
    assert servers(hub, busy)[""]["ready"] and lab_engine.lab(naming.container_name(busy)).running
    assert not culler_lines(hub, "culled", busy)
    assert len(culler_lines(hub, "warned", idle)) == 1  # once per deadline, though several passes saw it due
