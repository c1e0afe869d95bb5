"""Operator scripts agree with the hub: the volume renamer refuses volumes the hub maps (naming
the command to use instead), restore checks the archive before touching the volume."""

from __future__ import annotations

import subprocess

from harness import REPO, engine, unique_name

from stellars_hub import naming

TOOLS = "stellars-hub:dev"


def _script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / "scripts" / name), *args], capture_output=True, text=True, timeout=180)


def _sh(volume: str, script: str, mode: str = "ro") -> str:
    """``script`` run by sh in a throw-away container with ``volume`` at /v; its output."""
    out = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", "-v", f"{volume}:/v:{mode}", TOOLS]
        + ["-c", script],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def _files(volume: str) -> str:
    return _sh(volume, "cd /v && find . | sort && cat a.txt")


def test_restore_of_a_damaged_archive_leaves_the_volume_untouched(docker_engine, tmp_path):
    volume = naming.volume_name(unique_name("rst"), "workspace")
    engine().volumes.create(volume)
    try:
        _sh(volume, "echo precious > /v/a.txt; mkdir /v/d; head -c 300000 /dev/urandom > /v/d/blob", "rw")
        before = _files(volume)
        out = _script("volume-backup.sh", "--out", str(tmp_path), volume)
        assert out.returncode == 0, out.stderr
        archive = tmp_path / out.stdout.strip().rsplit("/", 1)[1]
        data = archive.read_bytes()
        archive.write_bytes(data[: len(data) // 2])  # truncated in transfer
        r = _script("volume-restore.sh", "--force", str(archive), volume)
        assert r.returncode == 1 and "damaged" in r.stderr and "not touched" in r.stderr
        assert _files(volume) == before
    finally:
        subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True)


def test_rename_script_refuses_volumes_the_hub_maps_and_names_the_command(make_hub):
    hub = make_hub()
    admin = hub.admin_session()
    old, mid, member, stranger, target = (unique_name(x) for x in ("old", "mid", "memb", "strg", "tgt"))
    assert hub.api(admin, "POST", "users", json={"usernames": [old, member]}).status_code == 201
    assert hub.api(admin, "PATCH", f"users/{old}", json={"name": mid}).status_code == 200  # keeps old's volumes
    created = []
    for name in (old, member, stranger):
        vol = naming.user_volume_names(name)["home"]  # the escaped-name volumes the script moves
        engine().volumes.create(vol)
        created.append(vol)
    try:
        r = _script("rename-user-volumes.sh", "--hub-data", str(hub.data_dir), old, target)
        assert r.returncode == 1, r.stdout + r.stderr
        assert f"belong to {mid}" in r.stderr and "PATCH" in r.stderr and f"hub/api/users/{old}" in r.stderr
        r = _script("rename-user-volumes.sh", "--hub-data", str(hub.data_dir), member, target)
        assert r.returncode == 1 and f"{member} is a user of the hub" in r.stderr
        assert {
            v.name for v in engine().volumes.list(filters={"name": "jupyterlab-" + naming.escape_name(target)})
        } == set()
        assert all(engine().volumes.get(v) for v in created)  # nothing moved
        # volumes the hub does not know about: the script goes ahead
        r = _script("rename-user-volumes.sh", "--hub-data", str(hub.data_dir), "--dry-run", stranger, target)
        assert r.returncode == 0 and "dry run" in r.stdout, r.stderr
        # no database to ask: refused unless the operator says no hub uses these volumes
        r = _script(
            "rename-user-volumes.sh", "--hub-data", "no-such-volume-" + unique_name("v"), "--dry-run", stranger, target
        )
        assert r.returncode == 1 and "--no-hub" in r.stderr
    finally:
        for vol in created:
            subprocess.run(["docker", "volume", "rm", "-f", vol], capture_output=True)
