"""Mount checks on the real path. A policy's host path is checked where the engine would find
it, symlinks and all: a link under an allowed directory that leads out of it is refused when the
policy is saved, and a link put there afterwards stops the lab's start (nothing is mounted).
Docker's own data directory and the engine's socket are never mountable, even under an allowed
directory that contains them. A named volume may not be (or, on Kubernetes, turn into) another
user's claim or the platform's."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from harness import RUN_PREFIX, engine

from stellars_hub import naming
from stellars_hub.backends.kubernetes import podspec
from stellars_hub.lab.spec import POLICY, LabSpec, Mount

ROOT = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}-mounts-"))
# an allowed directory of its own, and two an operator could write carelessly: they contain
# Docker's data directory and the engine's socket
HUB_ENV = {"JUPYTERHUB_POLICY_HOST_PATHS": f"{ROOT},/var/lib,/run,/var/run"}


@pytest.fixture(scope="module", autouse=True)
def tree():
    (ROOT / "data").mkdir()
    (ROOT / "up").symlink_to("/")
    (ROOT / "docker").symlink_to("/var/lib/docker")
    (ROOT / "sideways").symlink_to("data/../..")
    (ROOT / "inside").symlink_to(ROOT / "data")  # an absolute link that stays inside: fine
    yield ROOT
    shutil.rmtree(ROOT, ignore_errors=True)


def put(hub, group, source, mode="ro"):
    # a target of the group's own: two groups mounting two sources at one target are refused
    return hub.api(
        hub.admin_session(),
        "PUT",
        f"groups/{group}/policy",
        json={"mounts": [{"source": str(source), "target": f"/mnt/{group}", "mode": mode}]},
    )


def docker_root() -> str:
    return engine().info()["DockerRootDir"]


def test_host_paths_are_checked_on_their_real_path(hub, tree):
    group = f"{RUN_PREFIX}mnt"
    assert hub.api(hub.admin_session(), "POST", f"groups/{group}").status_code == 201
    for source in (ROOT / "up", ROOT / "docker", ROOT / "sideways", f"{ROOT}/up/etc"):
        r = put(hub, group, source)
        assert r.status_code == 400 and r.json()["message"].startswith("mounts[0].source"), (source, r.text)
    for source in (
        docker_root(),
        "/var/lib/docker/volumes",
        "/var/lib",
        "/run/docker.sock",
        "/var/run/docker.sock",
        "/run",
    ):
        r = put(hub, group, source, mode="rw")
        assert r.status_code == 400, (source, r.text)
    for source in (ROOT / "data", ROOT / "inside", ROOT / "newdir"):
        assert put(hub, group, source).status_code == 200, source
    assert hub.api(hub.admin_session(), "GET", f"groups/{group}/policy").json()["policy"]["mounts"][0]["source"] == str(
        ROOT / "newdir"
    )


def test_a_link_made_after_the_policy_was_saved_stops_the_start(hub, tree):
    group = f"{RUN_PREFIX}later"
    admin = hub.admin_session()
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    later = ROOT / "later"
    later.mkdir()
    assert put(hub, group, later).status_code == 200
    name, session = hub.new_user("ml")
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [name]}).status_code == 200
    later.rmdir()
    os.symlink("/", later)  # someone with write access to the allowed directory swaps it for a link
    hub.api(session, "POST", f"users/{name}/server")
    for _ in range(120):
        model = hub.api(session, "GET", f"users/{name}").json()
        if not model["pending"]:
            break
        time.sleep(0.5)
    assert not model["servers"].get("", {}).get("ready")
    labs = engine().containers.list(all=True, filters={"name": naming.container_name(name)})
    assert not [c for c in labs if c.name == naming.container_name(name)], "the lab was created with the link"
    assert "outside the allowed directories" in hub.log_text()


def test_named_volumes_never_reach_a_users_claim_or_the_platforms(hub):
    group = f"{RUN_PREFIX}vol"
    assert hub.api(hub.admin_session(), "POST", f"groups/{group}").status_code == 201
    victim = naming.escape_name(f"{RUN_PREFIX}bob")
    for source in (
        f"jupyterlab-{victim}_home",
        f"jupyterlab_{victim}-home",
        f"Jupyterlab_{victim}_home",
        "jupyterhub-shared",
        "jupyterhub_backups",
    ):
        r = put(hub, group, source)
        assert r.status_code == 400, (source, r.text)
    # the pod builder refuses them too, whatever a stored policy says
    for source in (f"jupyterlab_{victim}-home", "jupyterhub_shared"):
        with pytest.raises(ValueError, match="platform"):
            podspec.pod_volumes(LabSpec(mounts=(Mount(source, "/mnt/x", True, POLICY),)))
