"""Volume sizes on Kubernetes are what the kubelets measure: the summary API's pod volume
statistics, for claims mounted by a running pod.

The test cluster's default storage (the development hostPath provisioner) measures nothing (the
hostPath volume plugin has no metrics), so there sizes are unknown; a ``local`` volume is measured
(statfs of its file system). Here the hub's claims get a storage class of local volumes, each on a
tmpfs of its own, so the kubelet's figure is that volume's use alone."""

from __future__ import annotations

import time

import pytest
from harness import RUN_PREFIX
from kubecluster import LocalStorage

from stellars_hub import naming

STORAGE_CLASS = f"{RUN_PREFIX}-local"  # LocalStorage's name for the label "local"
HUB_ENV = {"JUPYTERHUB_K8S_STORAGE_CLASS": STORAGE_CLASS}
VOLUMES = 4  # the user's three claims and, in a namespace that has none yet, the shared claim


@pytest.fixture(scope="module", autouse=True)
def local_volumes(k8s_cluster):
    storage = LocalStorage(k8s_cluster, "local", VOLUMES, size="256m").up()
    assert storage.name == STORAGE_CLASS
    yield storage
    storage.down()


def kubelet_claim_usage(cluster) -> dict[str, int]:
    """claim name -> used bytes, as the kubelet's summary reports this namespace's mounted claims."""
    return LocalStorage(cluster, "local", 0).usage()


def test_manage_volumes_reports_what_the_kubelet_measures(kube_hub, k8s_cluster):
    name, session = kube_hub.new_user("kv")
    kube_hub.start_server(session, name, timeout=300)
    claims = {v.key: naming.volume_name(name, v.key).replace("_", "-") for v in naming.USER_VOLUMES}
    for claim in claims.values():
        pvc = k8s_cluster.get("pvc", claim)
        assert pvc["spec"]["storageClassName"] == STORAGE_CLASS and pvc["status"]["phase"] == "Bound"
    # 3 MiB more in the workspace than the image gave it
    k8s_cluster.in_lab(
        naming.container_name(name), "sh", "-c", f"head -c 3145728 /dev/urandom > {naming.NOTEBOOK_DIR}/blob"
    )

    def measured():
        usage = kubelet_claim_usage(k8s_cluster)
        return usage if usage.get(claims["workspace"], 0) >= 3 * 2**20 else None

    # the test cluster's kubelet measures volumes every 10 s (a kubelet's default: every minute)
    deadline = time.monotonic() + 150
    while not measured():
        assert time.monotonic() < deadline, "the kubelet did not measure the workspace claim"
        time.sleep(3)
    # the hub's sizes come from a cache refreshed in the background (at most once a minute)
    while True:
        r = kube_hub.api(session, "GET", f"users/{name}/manage-volumes")
        assert r.status_code == 200, r.text
        sizes = {v["key"]: v["size_bytes"] for v in r.json()["volumes"]}
        kubelet = kubelet_claim_usage(k8s_cluster)
        if sizes["workspace"] and sizes["workspace"] >= 3 * 2**20:
            break
        assert time.monotonic() < deadline + 90, f"the hub's sizes {sizes} never caught up with {kubelet}"
        time.sleep(3)
    for key, claim in claims.items():
        # the kubelet's figure now, or the one it gave a moment ago (the lab keeps writing its home)
        assert sizes[key] is not None and abs(sizes[key] - kubelet[claim]) <= 2**20, (key, sizes, kubelet)
    kube_hub.stop_server(session, name, timeout=180)
