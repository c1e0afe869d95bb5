"""Bounded cost of anonymous and repeated calls: 413 on big JSON bodies, rate-limited
manage-volumes reads with sizes from a background cache, a rotating audit log whose repeated
refusals are summarised."""

from __future__ import annotations

import asyncio
import json

import requests

from stellars_hub.backends.docker.runtime import DockerRuntime
from stellars_hub.web import audit
from stellars_hub.web.base import MAX_JSON_BODY
from stellars_hub.web.volumesizes import VolumeSizeCache


def test_big_json_bodies_get_413_and_change_nothing(hub):
    admin = hub.admin_session()
    before = hub.api(admin, "GET", "notifications/history").json()["broadcasts"]
    huge = json.dumps({"message": "x" * (MAX_JSON_BODY + 10), "type": "info"})
    r = hub.api(admin, "POST", "notifications/broadcast", data=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "at most" in r.json()["message"]
    r = requests.post(hub.hub_url + "api/admin/credentials", data=huge)  # anonymous: refused unread
    assert r.status_code == 413
    assert hub.api(admin, "GET", "notifications/history").json()["broadcasts"] == before
    assert requests.get(hub.hub_url + "api/").status_code == 200


def test_manage_volumes_reads_are_rate_limited_per_caller(hub):
    name, session = hub.new_user("reader")
    statuses = [hub.api(session, "GET", f"users/{name}/manage-volumes").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60
    r = hub.api(session, "GET", f"users/{name}/manage-volumes")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    other, s2 = hub.new_user("reader2")  # another caller is not affected
    assert hub.api(s2, "GET", f"users/{other}/manage-volumes").status_code == 200


async def test_volume_sizes_are_measured_in_the_background_once_per_interval(docker_engine):
    volume = docker_engine.volumes.create()
    try:
        cache = VolumeSizeCache(DockerRuntime(), interval=3600)
        assert cache.sizes([volume.name]) == {volume.name: None}  # never waits for the engine
        first = cache._task
        await cache.wait_for_refresh()
        assert cache.sizes([volume.name])[volume.name] is not None  # df knows the new volume
        assert cache._task is first  # fresh answer: no second df
    finally:
        volume.remove(force=True)


async def test_audit_log_rotates_by_size_and_summarises_repeated_refusals(tmp_path, monkeypatch):
    path = tmp_path / "audit.log"
    audit.configure(str(path), max_bytes=4000, keep=2)
    monkeypatch.setattr(audit, "SUMMARY_WINDOW", 0.3)
    for _ in range(25):
        audit.record("mallory", "mallory", "restart-server", "refused 429", reason="too many operations")
    lines = [json.loads(x) for x in path.read_text().splitlines() if '"mallory"' in x]
    assert len(lines) == 1  # one line, not 25
    await asyncio.sleep(0.6)
    summary = [json.loads(x) for x in path.read_text().splitlines() if '"repeated"' in x]
    assert summary and summary[-1]["repeated"] == 24 and summary[-1]["actor"] == "mallory"

    for i in range(200):  # ~25 kB of ok lines: rotated, at most 2 old files kept
        audit.record("admin", f"user{i}", "restart-server", "ok", container_id="c" * 40)
    assert path.stat().st_size <= 4000
    assert (tmp_path / "audit.log.1").exists() and (tmp_path / "audit.log.2").exists()
    assert not (tmp_path / "audit.log.3").exists()
