"""deploy/kubernetes/hub.yaml applied to the real cluster: the hub image runs as a Deployment
with the manifests' service account (in-cluster configuration) and spawns a lab pod.

The test cluster has no pod network and no kube-proxy, so the hub pod is adapted the way every
pod here is: host networking, its own free ports, the API server's loopback address, the local
image. Everything else (RBAC, claim, service account token, settings) is the manifests' own."""

from __future__ import annotations

import os
import time

import pytest
import yaml
from harness import LAB_IMAGE, PASSWORD, RUN_PREFIX, Hub, free_port
from kubecluster import manifest_for_run

from stellars_hub import naming

HUB_IMAGE = os.environ.get("STELLARS_TEST_HUB_IMAGE", "stellars-hub:dev")


def adapted_hub_manifests(cluster, proxy_port: int, hub_port: int, api_port: int) -> str:
    docs = list(yaml.safe_load_all(manifest_for_run(cluster, "hub.yaml")))
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        spec = doc["spec"]["template"]["spec"]
        spec.update(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")
        hub = spec["containers"][0]
        hub.update(image=HUB_IMAGE, imagePullPolicy="Never")
        hub["ports"] = [
            {"name": "proxy-public", "containerPort": proxy_port},
            {"name": "hub-api", "containerPort": hub_port},
        ]
        env = {e["name"]: e for e in hub["env"]}
        for name, value in {
            "JUPYTERHUB_HUB_HOST": "127.0.0.1",
            "JUPYTERHUB_NETWORK_NAME": "host",
            "JUPYTERHUB_HUB_PORT": str(hub_port),
            "JUPYTERHUB_NOTEBOOK_IMAGE": LAB_IMAGE,
            "JUPYTERHUB_GPU_ENABLED": "0",
            "JUPYTERHUB_ADMIN": f"{RUN_PREFIX}admin",
            "JUPYTERHUB_ADMIN_PASSWORD": PASSWORD,
            "JUPYTERHUB_K8S_VOLUME_SIZE": "1Gi",
            # plain HTTP on loopback, every client 127.0.0.1 (as the harness's TEST_ENV)
            "JUPYTERHUB_PUBLIC_SCHEME": "http",
            "JUPYTERHUB_TRUSTED_PROXIES": "",
            "JUPYTERHUB_AUTH_RATE_PER_ADDRESS": "10000",
            "JUPYTERHUB_SUBDOMAIN_HOST": "",
            # the in-cluster configuration's address of the API server (no kube-proxy here)
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": "6443",
        }.items():
            env[name] = {"name": name, "value": value}
        hub["env"] = list(env.values())
        hub["args"] = [
            "stellars-hub",
            "run",
            "--",
            "--port",
            str(proxy_port),
            f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api_port}",
            "--StellarsKubeSpawner.shared_access_modes=ReadWriteOnce",
        ]
    return yaml.safe_dump_all(docs)


def test_hub_deployment_runs_in_the_cluster_and_spawns_a_lab(k8s_cluster, hub_kubeconfig, tmp_path):
    cluster = k8s_cluster
    proxy_port, hub_port, api_port = free_port(), free_port(), free_port()
    applied = cluster.run("apply", "-f", "-", input=adapted_hub_manifests(cluster, proxy_port, hub_port, api_port))
    assert applied.returncode == 0
    try:
        rollout = cluster.run(
            "rollout", "status", "deployment/stellars-hub", "--timeout=240s", check=False, timeout=300
        )
        assert rollout.returncode == 0, (
            rollout.stderr + cluster.run("logs", "deployment/stellars-hub", check=False).stdout[-3000:]
        )
        pod = [p for p in cluster.names("pod") if p.startswith("stellars-hub-")]
        assert pod, "no hub pod"
        hub = Hub(
            data_dir=tmp_path,
            env={"JUPYTERHUB_ADMIN": f"{RUN_PREFIX}admin", "JUPYTERHUB_ADMIN_PASSWORD": PASSWORD},
            port=proxy_port,
        )
        name, session = hub.new_user("kc")
        hub.start_server(session, name, timeout=300)
        lab = cluster.get("pod", naming.container_name(name))
        assert lab is not None and lab["status"]["phase"] == "Running"
        assert lab["metadata"]["labels"]["hub.jupyter.org/username"]
        assert hub.lab(name, "GET", "api/status").status_code == 200
        # the hub's readiness sees its database, the API server and the proxy
        ready = hub.admin_session().get(hub.hub_url + "readiness", timeout=30)
        assert ready.status_code == 200, ready.text
        hub.stop_server(session, name, timeout=180)
    finally:
        cluster.run("delete", "deployment", "stellars-hub", "--wait=true", "--timeout=120s", check=False, timeout=180)
        cluster.run("delete", "pod", "--all", "--wait=true", "--timeout=120s", check=False, timeout=180)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(p.startswith("stellars-hub-") for p in cluster.names("pod")):
            time.sleep(1)


@pytest.fixture(autouse=True)
def _hub_image_present():
    import docker

    try:
        docker.from_env().images.get(HUB_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"hub image {HUB_IMAGE} is missing: run `make images` (make test does it)")
