"""The engine stops answering: 503 with a clear message, and the hub keeps serving."""

from __future__ import annotations

from enginegate import EngineGate


def test_engine_unreachable_503_hub_keeps_serving(make_hub, tmp_path):
    gate = EngineGate(str(tmp_path / "engine.sock")).open()
    try:
        hub = make_hub(DOCKER_HOST=gate.docker_host)
        name, session = hub.new_user("down")
        hub.start_server(session, name)  # through the gate: the engine works

        gate.close()  # the engine "stops"
        for method, path, body in (("POST", "restart-server", None), ("GET", "manage-volumes", None)):
            r = hub.api(session, method, f"users/{name}/{path}", json=body, timeout=60)
            assert r.status_code == 503, (path, r.text)
            assert "Docker engine is not reachable" in r.json()["message"]
        other, other_s = hub.new_user("up")  # signup, login, hub API: all still served
        assert hub.api(other_s, "GET", f"users/{other}").status_code == 200

        gate.open()  # the engine is back: the same hub works again
        assert hub.api(session, "GET", f"users/{name}/manage-volumes").status_code == 200
        r = hub.api(session, "POST", f"users/{name}/restart-server")
        assert r.status_code == 200, r.text
    finally:
        gate.close()
