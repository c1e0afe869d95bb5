"""The Kubernetes backend's own tests (the cluster and its service account come from the root
conftest; each module gets its hub)."""

from __future__ import annotations

import shutil

import pytest
from harness import ARTIFACTS, Hub
from kubecluster import KUBE_HUB_ARGS, kube_env


@pytest.fixture(scope="module")
def kube_hub(k8s_cluster, hub_kubeconfig, tmp_path_factory, request):
    env = kube_env(k8s_cluster, hub_kubeconfig, **getattr(request.module, "HUB_ENV", {}))
    hub = Hub(
        data_dir=tmp_path_factory.mktemp("kube-hub"),
        env=env,
        extra_args=list(KUBE_HUB_ARGS),
        extra_config=getattr(request.module, "HUB_CONFIG", ""),
    ).start()
    yield hub
    hub.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    if hub.log_path.exists():
        shutil.copy(hub.log_path, ARTIFACTS / f"hub-kube-{hub.port}.log")
    # labs of this module's users: their pods and claims go with the namespace at session end;
    # remove the pods now so later modules start from a quiet node
    k8s_cluster.run("delete", "pod", "--all", "--wait=true", "--timeout=120s", check=False, timeout=180)
