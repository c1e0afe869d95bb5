"""Restores and the hub's own backups, the hub killed (SIGKILL) in the middle.

A volume restore: the restore goes on in its tool container and ends; the hub's next start
removes that container, so nothing holds the user's volume and they act again.

The hub's state: the archives already in the target stay whole, no partial one is ever listed
as a generation, the next round (the restarted hub's first) starts from a clean staging
directory and writes a complete archive that restores onto an empty data directory; and a
restore killed half-way never touches the data directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker
import pytest
import requests
from faultkit import assert_hub_matches_engine, hub_died_under, write_volume_file
from harness import LAB_IMAGE, RUN_PREFIX, audit, engine, read_volume_file, wait_for
from survival import survives

from stellars_hub import naming
from stellars_hub.backups import hubstate
from stellars_hub.runtime.base import TOOL_HUB_LABEL, TOOL_RUN_LABEL

TARGET = Path(f"/tmp/stellars-statefault-{RUN_PREFIX}")
HUB_ENV = {
    "JUPYTERHUB_BACKUP_INTERVAL": "86400",
    "JUPYTERHUB_BACKUP_TARGET": str(TARGET),
    "JUPYTERHUB_BACKUP_KEEP": "20",  # every hub start takes the state: never pruned in this module
    "JUPYTERHUB_BACKUP_IMAGE": LAB_IMAGE,
}
BULK = 40 * 1024 * 1024  # random bytes in the data directory: the snapshot takes seconds, long enough to be killed in
WAIT = r"POST /v[0-9.]+/containers/([0-9a-f]+)/wait"  # the hub waiting for a tool container to end


@pytest.fixture(scope="module", autouse=True)
def target():
    TARGET.mkdir(parents=True, exist_ok=True)
    yield TARGET
    shutil.rmtree(TARGET, ignore_errors=True)


def _send(action, outcome: dict) -> None:
    try:
        outcome["response"] = action()
    except requests.RequestException as exc:  # the hub died under it
        outcome["error"] = exc


def killed_while_waiting_for_a_tool_on(hub, volume: str, action) -> tuple[dict, str]:
    """Send ``action`` and SIGKILL the hub while it waits for the tool container that mounts
    ``volume`` read-write (tools that only list the target go by); (its caller's outcome, the
    tool container's id). The hub is not started again."""
    held = hub.gate.hold(WAIT)
    outcome: dict = {}
    sender = threading.Thread(target=_send, args=(action, outcome), daemon=True)
    sender.start()
    while True:
        if not held.wait(120):
            hub.gate.release()
            raise AssertionError(f"the hub never waited for a tool on {volume}: {outcome}")
        waited = re.search(WAIT, "POST " + [p for p in hub.gate.paths if re.search(WAIT, "POST " + p)][-1])
        assert waited
        cid = waited.group(1)
        mounts = engine().api.inspect_container(cid)["Mounts"]
        if any(m.get("Name") == volume and m.get("RW") for m in mounts):
            break
        hub.gate.release()  # another tool (the target's listing): on, and wait for the next
        held = hub.gate.hold(WAIT)
    hub.kill()
    hub.gate.release(True)  # the engine finishes what it was asked: the tool runs to its end
    sender.join(30)
    return outcome, cid


def tool_state(cid: str) -> dict | None:
    try:
        return engine().api.inspect_container(cid)["State"]
    except docker.errors.NotFound:
        return None


@survives("kill-during-restore")
def test_killed_during_a_volume_restore_the_restore_ends_and_nothing_holds_the_volume(hub):
    name, session = hub.new_user("kvr")
    volume = naming.user_volume_names(name)["workspace"]
    write_volume_file(volume, "kept.txt", "backed up")
    hub.backup_round()
    admin = hub.admin_session()
    backups = hub.api(admin, "GET", f"users/{name}/backups").json()
    archive = next(v for v in backups["volumes"] if v["key"] == "workspace")["generations"][0]["archive"]
    write_volume_file(volume, "kept.txt", "changed after the backup")
    body = {"volume": "workspace", "archive": archive}

    outcome, tool = killed_while_waiting_for_a_tool_on(
        hub, volume, lambda: hub.api(admin, "POST", f"users/{name}/backups/restore", json=body)
    )
    try:
        assert hub_died_under(outcome)
        wait_for(lambda: not (tool_state(tool) or {}).get("Running"), what="the restore's container ended")
        assert read_volume_file(volume, "kept.txt") == "backed up"  # the restore ran to its end
        hub.restart()
        wait_for(lambda: tool_state(tool) is None, what="the killed hub's restore container removed at the next start")
        # the restore the killed hub could not see to its end, in the audit log: its volume, how it ended
        removed = [t for e in audit(hub) if e["action"] == "reconcile" for t in e.get("tools_removed", [])]
        assert {"volumes": [volume], "ended": "ok"}.items() <= next(
            t for t in removed if volume in t["volumes"]
        ).items()
    finally:
        if tool_state(tool) is not None:
            engine().api.remove_container(tool, force=True)  # unnamed: the run's clean-up would miss it
    assert_hub_matches_engine(hub)
    again = hub.api(hub.admin_session(), "POST", f"users/{name}/backups/restore", json=body)  # nothing holds it
    assert again.status_code == 200, again.text
    assert read_volume_file(volume, "kept.txt") == "backed up"


@survives("restore-outlives-hub")
def test_a_lab_does_not_start_on_a_volume_a_killed_hubs_restore_still_writes(hub):
    """A restore of a large volume outlives the hub killed under it: after the restart the user's
    start is refused with the reason (503, Retry-After) while it runs, never cuts it short, and
    goes through once it ended; another user's start is not held up."""
    name, session = hub.new_user("kvw")
    other, other_session = hub.new_user("kvo")
    volume = naming.user_volume_names(name)["workspace"]
    write_volume_file(volume, "kept.txt", "restored")
    hub.kill()
    # the killed hub's restore, still writing: a tool container as the hub runs one (its id, an
    # earlier run's label, the user's volume read-write), that ends when the test stops it
    tool = engine().containers.run(
        LAB_IMAGE,
        ["sleep", "600"],
        entrypoint=[],
        name=f"jupyterlab-{RUN_PREFIX}-tool-{naming.escape_name(name)}",  # the run's clean-up knows it
        labels={TOOL_HUB_LABEL: hub.hub_id, TOOL_RUN_LABEL: "an-earlier-run"},
        volumes={volume: {"bind": "/target", "mode": "rw"}},
        network_mode="none",
        detach=True,
    )
    try:
        hub.restart()
        r = hub.api(session, "POST", f"users/{name}/server")
        assert r.status_code == 503, r.text
        assert "began before the hub restarted" in r.json()["message"], r.text
        assert r.headers.get("Retry-After") == "30"
        assert hub.api(session, "GET", f"users/{name}").json()["server"] is None
        tool.reload()
        assert tool.status == "running"  # waited for, not cut short
        started = hub.api(other_session, "POST", f"users/{other}/server")  # not on that volume
        assert started.status_code in (201, 202), started.text

        tool.stop(timeout=1)  # the restore ends
        wait_for(lambda: tool_state(tool.id) is None, 30, what="the ended tool removed by the restarted hub")
        r = hub.api(session, "POST", f"users/{name}/server")
        assert r.status_code in (201, 202), r.text
        hub.wait_server(session, name, ready=True)
        lab = engine().containers.get(naming.container_name(name))
        assert lab.exec_run(["cat", "/home/lab/workspace/kept.txt"]).output == b"restored"
    finally:
        if tool_state(tool.id) is not None:
            tool.remove(force=True)


def state_archives() -> list[Path]:
    return sorted(TARGET.glob(f"{hubstate.STATE}_*"))


def restore_state(archive: Path, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "stellars-hub"), "restore-state", str(archive), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@survives("kill-during-hub-backup")
def test_a_hub_killed_while_it_takes_its_state_leaves_whole_archives(hub, tmp_path):
    hub.backup_round()  # archives of the state before: small and whole
    before = state_archives()
    assert before
    with open(hub.data_dir / "bulk.bin", "wb") as f:
        f.write(os.urandom(BULK))
    staging = hub.data_dir / ".backup-staging"
    admin = hub.admin_session()
    assert hub.api(admin, "POST", "backups/run").status_code == 202
    deadline = time.monotonic() + 60
    while not (staging / hubstate.DATA / "bulk.bin").exists():
        assert time.monotonic() < deadline, "the round never began to copy the data directory"
        time.sleep(0.02)
    hub.kill()  # the hub alone, as a crash would; its proxy lives on
    assert state_archives() == before  # nothing new, nothing partial
    assert staging.exists()  # what the killed round left

    hub.start(timeout=120)  # the restarted hub's first round takes the state again
    deadline = time.monotonic() + 300
    while len(state_archives()) <= len(before) or staging.exists():
        assert time.monotonic() < deadline, f"no complete state archive after the restart: {state_archives()}"
        time.sleep(1)
    newest = state_archives()[-1]
    assert all(p.name.endswith(".tar.gz") for p in state_archives())
    assert all(hubstate.read_manifest(p)["files"] for p in before)  # the earlier archives are whole

    # the newest restores; a restore killed half-way leaves the data directory as it was: empty
    empty = tmp_path / "empty"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "stellars-hub"), "restore-state", str(newest), "--data-dir", str(empty)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".restoring-") for p in (empty.iterdir() if empty.exists() else ())):
        assert time.monotonic() < deadline and proc.poll() is None, "the restore never began unpacking"
        time.sleep(0.01)
    proc.kill()
    proc.wait(30)
    assert [p for p in empty.iterdir() if not p.is_dir()] == []  # only the unpacking folder, no hub file
    done = restore_state(newest, empty)  # and a second try succeeds, and clears what the first left
    assert done.returncode == 0, done.stderr
    assert (empty / "bulk.bin").stat().st_size == BULK
    assert not [p for p in empty.iterdir() if p.is_dir()]
