"""GET /hub/health: unauthenticated; 200 with a small JSON body when the hub, its database and
the engine answer; 503 naming what is down otherwise."""

from __future__ import annotations

import requests


def test_health_is_200_unauthenticated_when_everything_answers(hub):
    r = requests.get(hub.hub_url + "health", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"healthy": True, "checks": {"hub": "ok", "database": "ok", "engine": "ok"}}
    assert len(r.content) < 200  # small: it is polled by the container engine
    assert requests.head(hub.hub_url + "health", timeout=10).status_code == 200
    assert "set-cookie" not in {k.lower() for k in r.headers}


def test_health_is_503_naming_the_engine_when_it_does_not_answer(make_hub):
    # The engine is shared with other test runs and must not be stopped; this hub process is
    # pointed at an engine address where nothing listens (DOCKER_HOST is what DockerRuntime
    # and DockerSpawner read), which is what the hub sees when the engine is down.
    hub = make_hub(DOCKER_HOST="unix:///nonexistent/docker.sock")
    r = requests.get(hub.hub_url + "health", timeout=20)
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == 503 and body["down"] == ["engine"]
    assert body["checks"]["hub"] == "ok" and body["checks"]["database"] == "ok"
    assert "engine" in body["message"]
    assert requests.head(hub.hub_url + "health", timeout=20).status_code == 503
    # the rest of the hub keeps answering
    assert requests.get(hub.hub_url + "login", timeout=10).status_code == 200
