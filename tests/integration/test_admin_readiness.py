"""Liveness and readiness: /hub/health is JupyterHub's own (is the hub alive), /hub/readiness is
the platform's (can it do its work: database, engine, proxy). An engine outage makes the hub not
ready, never dead: pages, JupyterHub's health and running labs keep answering."""

from __future__ import annotations

import time

import requests
from enginegate import EngineGate


def test_readiness_is_200_anonymous_when_everything_answers(hub):
    r = requests.get(hub.hub_url + "readiness", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {
        "ready": True,
        "checks": {"hub": "ok", "database": "ok", "data_disk": "ok", "engine": "ok", "proxy": "ok"},
    }
    assert r.headers["Cache-Control"] == "no-store"
    assert requests.head(hub.hub_url + "readiness", timeout=10).status_code == 200
    assert "set-cookie" not in {k.lower() for k in r.headers}
    live = requests.get(hub.hub_url + "health", timeout=10)
    assert live.status_code == 200 and "engine" not in live.text  # JupyterHub's, untouched


def test_engine_outage_degrades_without_killing_the_hub(make_hub, tmp_path):
    gate = EngineGate(str(tmp_path / "engine.sock")).open()
    try:
        hub = make_hub(DOCKER_HOST=gate.docker_host)
        name, session = hub.new_user("live")
        hub.start_server(session, name)
        assert hub.lab(name, "GET", "api/status").status_code == 200

        pings_before = gate.count(r"/_ping")
        for _ in range(5):  # repeated probes reuse one recent engine answer
            assert requests.get(hub.hub_url + "readiness", timeout=10).status_code == 200
        assert gate.count(r"/_ping") - pings_before <= 1

        gate.close()  # the engine "stops"
        deadline = time.monotonic() + 30
        while True:  # the cached answer lasts a few seconds
            r = requests.get(hub.hub_url + "readiness", timeout=20)
            if r.status_code == 503 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["down"] == ["engine"] and "engine" in body["message"]
        assert body["checks"]["database"] == "ok" and body["checks"]["proxy"] == "ok"
        # alive: JupyterHub's health, hub pages and the user's running lab all still answer
        assert requests.get(hub.hub_url + "health", timeout=10).status_code == 200
        assert session.get(hub.hub_url + "home", timeout=10).status_code == 200
        assert hub.lab(name, "GET", "api/status").status_code == 200
        # engine actions say 503 and why
        r = hub.api(session, "POST", f"users/{name}/restart-server", timeout=60)
        assert r.status_code == 503 and "Docker engine is not reachable" in r.json()["message"]

        gate.open()
        deadline = time.monotonic() + 30
        while requests.get(hub.hub_url + "readiness", timeout=20).status_code != 200:
            assert time.monotonic() < deadline, "readiness did not recover with the engine"
            time.sleep(1)
    finally:
        gate.close()
