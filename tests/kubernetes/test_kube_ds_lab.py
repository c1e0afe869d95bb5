"""The DS lab image on the Kubernetes backend, every lab's image with the hub's service switches
on: the pod's init container fills the user's empty claims from the image (the MLflow store and
matplotlib's font list made at build time), the switches and MLflow's variables reach the pod, a
run logged by code in the lab with no configuration is served by the lab's MLflow through its
own proxy, and the resource monitor reports the pod's memory limit. The same image in Chromium
on Docker: tests/e2e/test_ds_lab.py. Marked ds: after the image's build (tests/dsimage.py)."""

from __future__ import annotations

import secrets

import dsimage
import pytest
import requests
from dsimage import DS_IMAGE

from stellars_hub import naming

pytestmark = pytest.mark.ds
MEMORY_MIB = 3072
HUB_ENV = {"JUPYTERHUB_NOTEBOOK_IMAGE": DS_IMAGE, "JUPYTERHUB_LAB_MEMORY_LIMIT": str(MEMORY_MIB)}
RUN = "kube-" + secrets.token_hex(3)
LOG_A_RUN = (
    "import mlflow\n"
    f"with mlflow.start_run(run_name='{RUN}') as run:\n"
    "    mlflow.log_metric('slope', 2.0)\n"
    "print(run.info.run_id)"
)


@pytest.fixture(scope="module", autouse=True)
def ds_image(docker_engine):  # the kubelet runs pods on this engine (dockershim): its images
    dsimage.require(docker_engine)


def test_ds_lab_services_in_a_pod(kube_hub, k8s_cluster):
    name, session = kube_hub.new_user("kds")
    r = kube_hub.api(session, "POST", f"users/{name}/server")
    assert r.status_code in (201, 202), r.text
    kube_hub.wait_server(session, name, ready=True, timeout=300)
    lab = naming.container_name(name)
    pod = k8s_cluster.get("pod", lab)
    assert {c["image"] for c in pod["spec"]["containers"] + pod["spec"]["initContainers"]} == {DS_IMAGE}
    token = kube_hub.token_for(name)

    # the switches: both services offered through the lab's proxy, the resource monitor on
    info = kube_hub.lab(name, "GET", "server-proxy/servers-info", token)
    assert info.status_code == 200, info.text
    assert {s["name"] for s in info.json()["server_processes"]} == {"mlflow", "tensorboard"}
    metrics = kube_hub.lab(name, "GET", "api/metrics/v1", token)
    assert metrics.status_code == 200, metrics.text
    assert metrics.json()["limits"]["memory"]["rss"] == MEMORY_MIB * 2**20

    # the home claim holds the image's MLflow store, and a run logged with no configuration
    # (the tracking URI from the hub) starts the lab's MLflow and is stored there
    ls = k8s_cluster.in_lab(lab, "ls", "/home/lab/.mlflow/mlflow.db", check=False)
    assert ls.returncode == 0, ls.stderr
    logged = k8s_cluster.in_lab(lab, "python3", "-c", LOG_A_RUN, timeout=300)
    run_id = logged.stdout.strip().splitlines()[-1]
    # the MLflow UI's own API, through the lab's authenticated proxy
    got = kube_hub.lab(name, "GET", f"mlflow/api/2.0/mlflow/runs/get?run_id={run_id}", token)
    assert got.status_code == 200, got.text
    assert got.json()["run"]["info"]["run_name"] == RUN
    anonymous = requests.get(
        kube_hub.base + f"user/{name}/mlflow/api/2.0/mlflow/runs/get?run_id={run_id}",
        allow_redirects=False,
        timeout=30,
    )
    assert anonymous.status_code in (302, 403), anonymous.text  # the lab's login first, never MLflow's answer

    kube_hub.stop_server(session, name, timeout=180)
