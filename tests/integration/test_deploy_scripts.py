"""Operator scripts run for real against the engine: volume backup -> wipe -> restore gives the
same files; user volume rename moves the files to the spawner's names for the new user; dry
runs and refusals change nothing; the Linux trust installer makes OpenSSL trust the certificate."""

from __future__ import annotations

import re
import subprocess

import pytest
from harness import REPO, engine, unique_name

from stellars_hub import naming

TOOLS = "stellars-hub:dev"
SCRIPTS = REPO / "scripts"

FILL = r"""
set -e
mkdir -p /v/sub/deeper /v/empty
printf 'hello\n' > /v/a.txt
head -c 200000 /dev/urandom > /v/sub/blob.bin
printf 'x' > /v/sub/deeper/owned-by-lab
chown -R 1000:1000 /v/sub/deeper
chmod 640 /v/a.txt
ln -s a.txt /v/link
"""
LIST = "cd /v && find . -printf '%p %y %U:%G %m %l\\n' | sort && find . -type f -exec sha256sum {} + | sort"


def _sh(volume: str, script: str, ro: bool = False) -> str:
    mount = f"{volume}:/v" + (":ro" if ro else "")
    out = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", "-v", mount, TOOLS, "-c", script],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def _script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPTS / name), *args], capture_output=True, text=True, timeout=120)


def _volumes(prefix: str) -> set[str]:
    return {v.name for v in engine().volumes.list(filters={"name": prefix})}


@pytest.fixture
def volume(docker_engine):
    name = naming.volume_name(unique_name("bk"), "workspace")  # removed by the harness cleanup
    engine().volumes.create(name)
    yield name
    subprocess.run(["docker", "volume", "rm", "-f", name], capture_output=True)


def test_backup_wipe_restore_round_trip(volume, tmp_path):
    _sh(volume, FILL)
    original = _sh(volume, LIST)

    out = _script("volume-backup.sh", "--out", str(tmp_path), volume)
    assert out.returncode == 0, out.stderr
    archive = out.stdout.strip()
    assert re.fullmatch(re.escape(f"{tmp_path}/{volume}_") + r"\d{8}-\d{6}\.tar\.gz", archive)
    assert _sh(volume, LIST) == original  # the backup changed nothing

    # refuses a non-empty volume; the dry run says so and changes nothing
    refused = _script("volume-restore.sh", archive, volume)
    assert refused.returncode == 1 and "not empty" in refused.stderr
    dry = _script("volume-restore.sh", "--dry-run", "--force", archive, volume)
    assert dry.returncode == 0 and "dry run" in dry.stdout

    # wipe: the volume is gone entirely, then restored from the archive
    subprocess.run(["docker", "volume", "rm", volume], check=True, capture_output=True)
    dry = _script("volume-restore.sh", "--dry-run", archive, volume)
    assert dry.returncode == 0 and volume not in _volumes(volume)  # dry run created nothing
    out = _script("volume-restore.sh", archive, volume)
    assert out.returncode == 0, out.stderr
    assert _sh(volume, LIST) == original

    # --force replaces changed content with exactly the archive's
    _sh(volume, "echo changed > /v/a.txt; touch /v/extra")
    out = _script("volume-restore.sh", "--force", archive, volume)
    assert out.returncode == 0, out.stderr
    assert _sh(volume, LIST) == original


@pytest.fixture
def users(docker_engine):
    old, new = unique_name("Ren.a"), unique_name("ren-b")
    yield old, new
    for name in (old, new):
        for v in naming.user_volume_names(name).values():
            subprocess.run(["docker", "volume", "rm", "-f", v], capture_output=True)


def test_rename_moves_files_to_the_new_users_volumes(users):
    old, new = users
    old_vols, new_vols = naming.user_volume_names(old), naming.user_volume_names(new)
    for key in ("home", "workspace"):  # no cache volume: the script skips what does not exist
        engine().volumes.create(old_vols[key])
        _sh(old_vols[key], f"echo {key}-data > /v/{key}.txt; chown 1000:1000 /v/{key}.txt")
    before = {v: _sh(v, LIST) for v in (old_vols["home"], old_vols["workspace"])}
    everything = f"jupyterlab-{naming.escape_name(old)[:7]}"  # both users share the run prefix

    dry = _script("rename-user-volumes.sh", "--no-hub", "--dry-run", old, new)
    assert dry.returncode == 0 and "dry run" in dry.stdout, dry.stderr
    assert _volumes(everything) >= set(before) and not any(_volumes(v) for v in new_vols.values())
    assert {v: _sh(v, LIST) for v in before} == before

    # the user's lab container exists (server not stopped): refused, nothing changed
    lab = engine().containers.create(TOOLS, name=naming.container_name(old), entrypoint="true")
    try:
        busy = _script("rename-user-volumes.sh", "--no-hub", old, new)
        assert busy.returncode == 1 and "stop that user's server first" in busy.stderr
        assert not any(_volumes(v) for v in new_vols.values())
    finally:
        lab.remove(force=True)

    keep = _script("rename-user-volumes.sh", "--no-hub", "--keep-orig", old, new)
    assert keep.returncode == 0, keep.stderr
    for key in ("home", "workspace"):
        assert _sh(new_vols[key], LIST) == before[old_vols[key]]
        assert _sh(old_vols[key], LIST) == before[old_vols[key]]  # original kept
    assert not _volumes(new_vols["cache"])

    # the targets exist now: a second rename refuses and changes nothing
    again = _script("rename-user-volumes.sh", "--no-hub", old, new)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert all(_volumes(v) for v in old_vols.values() if v in before)

    # a real move: remove the copies, rename again, originals gone
    for key in ("home", "workspace"):
        subprocess.run(["docker", "volume", "rm", new_vols[key]], check=True, capture_output=True)
    out = _script("rename-user-volumes.sh", "--no-hub", old, new)
    assert out.returncode == 0, out.stderr
    for key in ("home", "workspace"):
        assert _sh(new_vols[key], f"cat /v/{key}.txt").strip() == f"{key}-data"
        assert not _volumes(old_vols[key])


def test_linux_trust_installer_makes_openssl_trust_the_certificate(tmp_path):
    subprocess.run(
        [str(SCRIPTS / "certs/make-cert.sh"), "--domain", "example.org", "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    check = "openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt /c/server.crt"
    run = [
        "docker",
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        f"{tmp_path}:/c:ro",
        "-v",
        f"{SCRIPTS / 'certs'}:/s:ro",
        "--entrypoint",
        "bash",
        TOOLS,
        "-c",
    ]
    out = subprocess.run(
        run + [f"{check}; /s/install-cert-linux.sh /c/server.crt && {check}"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("/c/server.crt: OK") == 1  # not trusted before, trusted after
    assert "trusted /c/server.crt" in out.stdout
