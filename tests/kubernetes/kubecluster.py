"""The test cluster as the Kubernetes tests see it: kubectl against it, and the project's
manifests moved into a run's own namespace."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

from harness import REPO


@dataclass
class Cluster:
    kubeconfig: str
    kubectl: str
    namespace: str

    def run(self, *args: str, check: bool = True, timeout: float = 120, input: str | None = None
            ) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.kubectl, f"--kubeconfig={self.kubeconfig}", "-n", self.namespace, *args],
                              capture_output=True, text=True, timeout=timeout, input=input)
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

    def names(self, kind: str) -> set[str]:
        items = json.loads(self.run("get", kind, "-o", "json").stdout)["items"]
        return {i["metadata"]["name"] for i in items}


MANIFESTS = REPO / "deploy" / "kubernetes"


def manifest_for_run(cluster: Cluster, file: str) -> str:
    """A deploy/kubernetes manifest moved into this run's namespace (cluster-wide names get
    the run's suffix), so parallel runs and the operator's own install never meet."""
    text = (MANIFESTS / file).read_text().replace("stellars-jupyterhub", cluster.namespace)
    return text.replace("name: stellars-hub-nodes", f"name: stellars-hub-nodes-{cluster.namespace}")
