"""The DS lab image (stellars-lab-ds) offered by a group's profile on a real hub whose service
switches are off, and its layout against the small image's (the platform's volumes and the
Kubernetes init container rely on it). With the switches on, as every lab's image,
tests/e2e/test_ds_lab.py uses every service in Chromium. Marked ds: last in make test (tests/dsimage.py)."""

from __future__ import annotations

import dsimage
import pytest
from dsimage import DS_IMAGE
from harness import LAB_IMAGE, unique_name

from stellars_hub import naming

pytestmark = pytest.mark.ds
HUB_ENV = {  # every lab's image stays the small one: the DS lab is a profile's
    "JUPYTERHUB_SERVICE_MLFLOW": "0",
    "JUPYTERHUB_SERVICE_TENSORBOARD": "0",
    "JUPYTERHUB_SERVICE_RESOURCES_MONITOR": "0",
}
# what a lab's volumes mount over, and what the init container runs (sh -c with these tools)
MOUNT_POINTS = ["/home", "/home/lab", "/home/lab/workspace", "/home/lab/.cache", "/mnt/shared"]
INIT_TOOLS = ["sh", "cp", "chown", "chmod", "ls", "grep"]


@pytest.fixture(scope="module", autouse=True)
def ds_image(docker_engine):
    dsimage.require(docker_engine)


def _layout(engine, image: str) -> str:
    script = (
        f"stat -c '%n %U %u:%g %a' {' '.join(MOUNT_POINTS)}; id; pwd; "
        f"for t in {' '.join(INIT_TOOLS)}; do command -v $t >/dev/null && echo has $t; done; "
        "command -v jupyterhub-singleuser"
    )
    return engine.containers.run(image, ["sh", "-c", script], entrypoint=[], network_mode="none", remove=True).decode()


def test_ds_image_has_the_small_images_user_and_mount_points(docker_engine):
    small, ds = _layout(docker_engine, LAB_IMAGE), _layout(docker_engine, DS_IMAGE)
    assert ds == small, f"small image:\n{small}\nDS image:\n{ds}"
    assert "uid=1000(lab)" in ds and "/home/lab/workspace" in ds
    assert all(f"has {t}" in ds for t in INIT_TOOLS), ds


def test_switched_off_services_do_not_run(hub, docker_engine):
    # the DS lab offered the way a site offers it beside the default image: a group's profile
    admin = hub.admin_session()
    name, session = hub.new_user("dsoff")
    group = unique_name("dsteam")
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [name]}).status_code == 200
    profiles = [{"name": "data-science", "image": DS_IMAGE, "description": "the DS lab"}]
    r = hub.api(admin, "PUT", f"groups/{group}/policy", json={"profiles": profiles})
    assert r.status_code == 200, r.text
    r = hub.api(session, "POST", f"users/{name}/server", json={"profile": "data-science"})
    assert r.status_code in (201, 202), r.text
    hub.wait_server(session, name, ready=True, timeout=300)
    token = hub.token_for(name)

    # no proxy entries, so no tiles and nothing to start; no resource monitor (its status bar
    # item shows nothing without its API)
    info = hub.lab(name, "GET", "server-proxy/servers-info", token)
    assert info.status_code == 200 and info.json()["server_processes"] == [], info.text
    for path in ("mlflow/", "tensorboard/", "api/metrics/v1"):
        assert hub.lab(name, "GET", path, token).status_code == 404, path
    # a notebook's MLflow request does not start a server either: nothing answers there
    lab = docker_engine.containers.get(naming.container_name(name))
    assert lab.attrs["Config"]["Image"] == DS_IMAGE
    run = lab.exec_run(
        ["python3", "-c", "import mlflow; mlflow.search_experiments()"],
        environment={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
    )
    assert run.exit_code != 0 and b"Connection refused" in run.output, run.output[-2000:]
    processes = [p[-1] for p in lab.top(ps_args="-eo pid,args")["Processes"]]
    assert not [p for p in processes if "mlflow" in p or "tensorboard" in p], processes
    assert any("jupyterhub-singleuser" in p for p in processes), processes
