"""Group project folders and a lab per need on a real hub and engine, with two local images (the
lab image and a one-line build on top of it, never pulled): a member's lab runs the profile it
asked for with its limits and mounts the group's folder read-write, a viewer's lab reads it and
cannot write; what is not offered is refused before any container exists; Restart Server keeps
the profile; the folder is backed up and measured; a deleted group's folder is kept, and removed
only by an admin once no lab uses it. Three lab starts."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import docker
import pytest
from harness import LAB_IMAGE, RUN_PREFIX, build_second_lab_image, engine, unique_name, wait_for

from stellars_hub import naming

TARGET = Path(f"/tmp/stellars-backups-{RUN_PREFIX}-projects")
HUB_ENV = {
    # a round at start-up, then only when asked for ("Back up now")
    "JUPYTERHUB_BACKUP_INTERVAL": "86400",
    "JUPYTERHUB_BACKUP_TARGET": str(TARGET),
    "JUPYTERHUB_BACKUP_IMAGE": LAB_IMAGE,
}
ALT_IMAGE = f"stellars-lab:{RUN_PREFIX}-alt"
MIB = 2**20


@pytest.fixture(scope="module", autouse=True)
def alt_image(docker_engine):
    TARGET.mkdir(parents=True, exist_ok=True)
    yield build_second_lab_image(ALT_IMAGE)
    try:
        docker_engine.images.remove(ALT_IMAGE, force=True)
    except docker.errors.APIError:
        pass
    shutil.rmtree(TARGET, ignore_errors=True)


def inspect(name: str) -> dict:
    return engine().api.inspect_container(naming.container_name(name))


def in_lab(name: str, command: str) -> tuple[int, str]:
    code, out = engine().containers.get(naming.container_name(name)).exec_run(["sh", "-c", command], user="lab")
    return code, out.decode(errors="replace")


def test_profiles_and_a_project_folder_on_the_engine(hub):
    admin = hub.admin_session()
    team, readers = unique_name("team"), unique_name("read")
    ann, ann_s = hub.new_user("ann")
    bob, bob_s = hub.new_user("bob")
    for group, users in ((team, [ann]), (readers, [bob])):
        assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
        assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": users}).status_code == 200
    profiles = [
        {"name": "std", "image": LAB_IMAGE, "memory_mb": 1024},
        {"name": "alt", "image": ALT_IMAGE, "memory_mb": 2048, "description": "the second image"},
    ]
    r = hub.api(admin, "PUT", f"groups/{team}/policy", json={"memory_mb": 2048, "profiles": profiles})
    assert r.status_code == 200, r.text
    r = hub.api(admin, "POST", f"groups/{team}/project", json={"viewers": readers})
    assert r.status_code == 201, r.text
    volume, folder = r.json()["volume"], f"/mnt/groups/{team}"
    assert engine().volumes.get(volume).name == volume  # made at once, before any lab mounts it

    # what is not offered is refused, whatever the request says: no container is made
    for body in ({"profile": "alt"}, {"image": ALT_IMAGE}, {"profile": "std", "image": ALT_IMAGE}):
        r = hub.api(bob_s, "POST", f"users/{bob}/server", json=body)
        assert r.status_code == 400, (body, r.text)
    r = hub.api(ann_s, "POST", f"users/{ann}/server", json={"image": ALT_IMAGE})
    assert r.status_code == 400 and r.json()["message"].startswith("image:"), r.text
    assert not engine().containers.list(all=True, filters={"name": naming.container_name(bob)})
    assert not engine().containers.list(all=True, filters={"name": naming.container_name(ann)})

    # the member's chosen profile: its image and memory, the folder read-write and writable
    assert hub.api(ann_s, "POST", f"users/{ann}/server", json={"profile": "alt"}).status_code in (201, 202)
    hub.wait_server(ann_s, ann, ready=True, timeout=180)
    info = inspect(ann)
    assert info["Config"]["Image"] == ALT_IMAGE and info["HostConfig"]["Memory"] == 2048 * MIB
    mount = next(m for m in info["Mounts"] if m["Destination"] == folder)
    assert (mount["Type"], mount["Name"], mount["RW"]) == ("volume", volume, True)
    code, out = in_lab(ann, f"printf 'from ann' > {folder}/plan.txt && cat {folder}/plan.txt")
    assert code == 0 and out == "from ann", out

    # the viewer: the standard lab (nobody offers them a profile), the folder read-only
    hub.start_server(bob_s, bob, timeout=180)
    info = inspect(bob)
    assert info["Config"]["Image"] == LAB_IMAGE
    assert next(m for m in info["Mounts"] if m["Destination"] == folder)["RW"] is False
    assert in_lab(bob, f"cat {folder}/plan.txt") == (0, "from ann")
    code, out = in_lab(bob, f"touch {folder}/bob.txt")
    assert code != 0 and "Read-only file system" in out, out
    hub.stop_server(bob_s, bob)

    # Restart Server that recreates the lab (own variables changed) keeps the chosen profile
    before = inspect(ann)["Id"]
    assert hub.api(ann_s, "PUT", f"users/{ann}/environment", json={"environment": {"PLAN": "b"}}).status_code == 200
    r = hub.api(ann_s, "POST", f"users/{ann}/restart-server")
    assert r.status_code == 200 and r.json()["status"] == "recreated", r.text
    info = inspect(ann)
    assert info["Id"] != before and info["Config"]["Image"] == ALT_IMAGE and "PLAN=b" in info["Config"]["Env"]
    assert in_lab(ann, f"cat {folder}/plan.txt") == (0, "from ann")

    # backed up with the users' volumes, under the group
    def backed_up():
        r = hub.api(admin, "POST", "backups/run")
        if r.status_code == 409 and "already running" in r.json()["message"]:
            return None
        assert r.status_code == 202, r.text
        return True

    wait_for(backed_up, what="a backup round to start", timeout=120)

    def project_row():
        data = hub.api(admin, "GET", "backups").json()
        rows = [v for p in data["projects"] if p["group"] == team for v in p["volumes"]]
        return not data["running"] and rows and rows[0]["outcome"] == "ok" and rows[0]

    row = wait_for(project_row, timeout=240, what="the project folder's backup")
    with tarfile.open(TARGET / row["archive"]) as tar:
        assert tar.extractfile("./plan.txt").read() == b"from ann"
    assert team not in {u["username"] for u in hub.api(admin, "GET", "backups").json()["users"]}

    # measured (the Activity, Usage and Policies pages show it)
    sized = wait_for(
        lambda: next(f for f in hub.api(admin, "GET", "projects").json()["folders"] if f["volume"] == volume)[
            "size_bytes"
        ],
        what="the folder's size",
        timeout=120,
    )
    assert sized >= len("from ann")

    # the group goes: the folder is kept (never removed silently) and cannot be removed in use
    assert hub.api(admin, "DELETE", f"groups/{team}").status_code == 204
    kept = next(f for f in hub.api(admin, "GET", "projects").json()["folders"] if f["volume"] == volume)
    assert kept["kept"] and engine().volumes.get(volume)
    r = hub.api(admin, "DELETE", f"projects/{volume}")
    assert r.status_code == 409 and naming.container_name(ann) in r.json()["message"]
    hub.stop_server(ann_s, ann)
    assert hub.api(admin, "DELETE", f"projects/{volume}").status_code == 200
    with pytest.raises(docker.errors.NotFound):
        engine().volumes.get(volume)
