"""The test cluster as the tests see it (scripts/k8s-test-cluster.sh): kubectl against it, the
project's manifests moved into a run's own namespace, the environment of a hub that runs its labs
there, and storage whose use the kubelet measures."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from harness import REPO, RUN_PREFIX, TEST_ENV

from stellars_hub.backends.kubernetes import LAB_CONTAINER


@dataclass
class Cluster:
    kubeconfig: str
    kubectl: str
    namespace: str

    def run(
        self, *args: str, check: bool = True, timeout: float = 120, input: str | None = None
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [self.kubectl, f"--kubeconfig={self.kubeconfig}", "-n", self.namespace, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def in_lab(self, pod: str, *command: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """``command`` run in the lab container of ``pod`` (kubectl exec)."""
        return self.run("exec", pod, "-c", LAB_CONTAINER, "--", *command, check=check, timeout=timeout)

    def cluster_wide(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [self.kubectl, f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def get(self, kind: str, name: str) -> dict | None:
        """The object as the API server reports it, or None when it does not exist."""
        proc = self.run("get", kind, name, "-o", "json", check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr:
                return None
            raise AssertionError(f"kubectl get {kind} {name}: {proc.stderr.strip()}")
        return json.loads(proc.stdout)

    def items(self, kind: str) -> list[dict]:
        return json.loads(self.run("get", kind, "-o", "json").stdout)["items"]

    def names(self, kind: str) -> set[str]:
        return {i["metadata"]["name"] for i in self.items(kind)}


MANIFESTS = REPO / "deploy" / "kubernetes"


def manifest_for_run(cluster: Cluster, file: str) -> str:
    """A deploy/kubernetes manifest moved into this run's namespace (cluster-wide names get
    the run's suffix), so parallel runs and the operator's own install never meet."""
    text = (MANIFESTS / file).read_text().replace("stellars-jupyterhub", cluster.namespace)
    return text.replace("name: stellars-hub-nodes", f"name: stellars-hub-nodes-{cluster.namespace}")


def kube_env(cluster: Cluster, kubeconfig: str, **extra) -> dict:
    """What a test hub whose labs run on the cluster runs with (besides TEST_ENV)."""
    return {
        **TEST_ENV,
        "JUPYTERHUB_BACKEND": "kubernetes",
        "JUPYTERHUB_K8S_KUBECONFIG": kubeconfig,
        "JUPYTERHUB_K8S_NAMESPACE": cluster.namespace,
        "JUPYTERHUB_K8S_VOLUME_SIZE": "1Gi",
        **extra,
    }


# the test cluster's hostPath storage offers ReadWriteOnce only (one node: enough for sharing)
KUBE_HUB_ARGS = ["--StellarsKubeSpawner.shared_access_modes=ReadWriteOnce"]
NODE = "127.0.0.1"  # the test cluster's one node


@dataclass
class LocalStorage:
    """A storage class of ``local`` volumes, each on a tmpfs of its own on this machine (the only
    node), bound when a pod first uses a claim. The kubelet measures a local volume (statfs of its
    file system), so each volume's figure is its own use; the cluster's default storage (the
    development hostPath provisioner) measures nothing. Volumes are used once (Retain)."""

    cluster: Cluster
    label: str
    count: int
    size: str = "64m"
    root: Path = field(init=False)

    def __post_init__(self):
        self.name = f"{RUN_PREFIX}-{self.label}"
        self.root = Path("/var/tmp") / f"stellars-{self.name}"

    def up(self) -> LocalStorage:
        manifests = [
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": self.name},
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "WaitForFirstConsumer",
            }
        ]
        for i in range(self.count):
            path = self.root / str(i)
            path.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0755", "tmpfs", str(path)], check=True
            )
            manifests.append(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": f"{self.name}-{i}"},
                    "spec": {
                        "capacity": {"storage": "1Gi"},
                        "accessModes": ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": "Retain",
                        "storageClassName": self.name,
                        "local": {"path": str(path)},
                        "nodeAffinity": {
                            "required": {
                                "nodeSelectorTerms": [
                                    {
                                        "matchExpressions": [
                                            {"key": "kubernetes.io/hostname", "operator": "In", "values": [NODE]}
                                        ]
                                    }
                                ]
                            }
                        },
                    },
                }
            )
        self.cluster.cluster_wide(
            "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests})
        )
        return self

    def down(self) -> None:
        """Every pod of the namespace (they hold the volumes), then this class's claims, volumes
        and mounts; the API objects go in the background (nothing waits for them)."""
        cluster = self.cluster
        cluster.run("delete", "pod", "--all", "--wait=true", "--timeout=120s", check=False, timeout=180)
        claims = [c["metadata"]["name"] for c in cluster.items("pvc") if c["spec"].get("storageClassName") == self.name]
        if claims:
            cluster.run("delete", "pvc", *claims, "--wait=false", check=False, timeout=180)
        cluster.cluster_wide(
            "delete", "pv", *[f"{self.name}-{i}" for i in range(self.count)], "--wait=false", check=False
        )
        cluster.cluster_wide("delete", "storageclass", self.name, "--wait=false", check=False)
        for i in range(self.count):
            path = self.root / str(i)
            if subprocess.run(["umount", str(path)], check=False, capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)  # still held
            path.rmdir()
        self.root.rmdir()

    def usage(self) -> dict[str, int]:
        """claim name -> used bytes, as the kubelet's summary reports this namespace's mounted claims."""
        out = self.cluster.run("get", "--raw", f"/api/v1/nodes/{NODE}/proxy/stats/summary").stdout
        return {
            v["pvcRef"]["name"]: v["usedBytes"]
            for p in json.loads(out)["pods"]
            for v in p.get("volume") or []
            if (v.get("pvcRef") or {}).get("namespace") == self.cluster.namespace and "usedBytes" in v
        }
