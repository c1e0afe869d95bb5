"""Volume sizes on Kubernetes are what the kubelets measure: the summary API's pod volume
statistics, for claims mounted by a running pod.

The test cluster's default storage (the development hostPath provisioner) measures nothing (the
hostPath volume plugin has no metrics), so there sizes are unknown; a ``local`` volume is measured
(statfs of its file system). Here the hub's claims get a storage class of local volumes, each on a
tmpfs of its own, so the kubelet's figure is that volume's use alone."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from harness import RUN_PREFIX

from stellars_hub import naming

STORAGE_CLASS = f"{RUN_PREFIX}-local"
HUB_ENV = {"JUPYTERHUB_K8S_STORAGE_CLASS": STORAGE_CLASS}
VOLUMES = 4  # the user's three claims and, in a namespace that has none yet, the shared claim
MOUNTS = Path("/var/tmp") / f"stellars-{RUN_PREFIX}-local"


def cluster_wide(cluster, *args: str, input: str | None = None, check: bool = True):
    proc = subprocess.run([cluster.kubectl, f"--kubeconfig={cluster.kubeconfig}", *args], input=input,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 or not check, proc.stderr
    return proc


@pytest.fixture(scope="module", autouse=True)
def local_volumes(k8s_cluster):
    """A storage class with no provisioner and local volumes on tmpfs mounts of this machine
    (the only node), bound when a pod first uses a claim."""
    manifests = [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": STORAGE_CLASS},
                  "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer"}]
    dirs = []
    for i in range(VOLUMES):
        path = MOUNTS / str(i)
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m,mode=0755", "tmpfs", str(path)], check=True)
        dirs.append(path)
        manifests.append({
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"{STORAGE_CLASS}-{i}"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": STORAGE_CLASS,
                     "local": {"path": str(path)},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "kubernetes.io/hostname", "operator": "In", "values": ["127.0.0.1"]}]}]}}}})
    cluster_wide(k8s_cluster, "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                   "items": manifests}))
    yield
    k8s_cluster.run("delete", "pod", "--all", "--wait=true", "--timeout=120s", check=False, timeout=180)
    bound = json.loads(k8s_cluster.run("get", "pvc", "-o", "json").stdout)["items"]
    claims = [c["metadata"]["name"] for c in bound if c["spec"].get("storageClassName") == STORAGE_CLASS]
    if claims:
        k8s_cluster.run("delete", "pvc", *claims, "--wait=true", "--timeout=120s", check=False, timeout=180)
    cluster_wide(k8s_cluster, "delete", "pv", *[f"{STORAGE_CLASS}-{i}" for i in range(VOLUMES)],
                 "--wait=true", "--timeout=120s", check=False)
    cluster_wide(k8s_cluster, "delete", "storageclass", STORAGE_CLASS, check=False)
    for path in dirs:
        if subprocess.run(["umount", str(path)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=False)  # still held: detach it
        path.rmdir()
    MOUNTS.rmdir()


def kubelet_claim_usage(cluster) -> dict[str, int]:
    """claim name -> used bytes, as the kubelet's summary reports this namespace's mounted claims."""
    out = cluster.run("get", "--raw", "/api/v1/nodes/127.0.0.1/proxy/stats/summary").stdout
    return {v["pvcRef"]["name"]: v["usedBytes"] for p in json.loads(out)["pods"] for v in p.get("volume") or []
            if (v.get("pvcRef") or {}).get("namespace") == cluster.namespace and "usedBytes" in v}


def test_manage_volumes_reports_what_the_kubelet_measures(kube_hub, k8s_cluster):
    name, session = kube_hub.new_user("kv")
    kube_hub.start_server(session, name, timeout=300)
    claims = {v.key: naming.volume_name(name, v.key).replace("_", "-") for v in naming.USER_VOLUMES}
    for claim in claims.values():
        pvc = k8s_cluster.get("pvc", claim)
        assert pvc["spec"]["storageClassName"] == STORAGE_CLASS and pvc["status"]["phase"] == "Bound"
    # 3 MiB more in the workspace than the image gave it
    k8s_cluster.run("exec", naming.container_name(name), "-c", "notebook", "--", "sh", "-c",
                    f"head -c 3145728 /dev/urandom > {naming.NOTEBOOK_DIR}/blob")

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
