"""deploy/kubernetes against the real API server: the objects are valid, and the hub's service
account may do what the hub does and nothing beyond it. (The backend tests' hubs run with this
account's token, so "enough" is shown there: every lab action works with only these rights.)"""

from __future__ import annotations

import json
import subprocess

import pytest
from kubecluster import manifest_for_run


def can_i(cluster, verb: str, resource: str, namespaced: bool = True) -> bool:
    args = [
        cluster.kubectl,
        f"--kubeconfig={cluster.kubeconfig}",
        "auth",
        "can-i",
        verb,
        resource,
        f"--as=system:serviceaccount:{cluster.namespace}:stellars-hub",
    ]
    if namespaced:
        args += ["-n", cluster.namespace]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60).stdout.strip()
    return out == "yes"


def may(cluster, verb: str, group: str, resource: str) -> bool:
    """The API server's own answer (a SubjectAccessReview) for a resource of an API group it may
    not serve: kubectl auth can-i cannot name those (the test cluster has no metrics server)."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": f"system:serviceaccount:{cluster.namespace}:stellars-hub",
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{cluster.namespace}", "system:authenticated"],
            "resourceAttributes": {"namespace": cluster.namespace, "verb": verb, "group": group, "resource": resource},
        },
    }
    proc = subprocess.run(
        [
            cluster.kubectl,
            f"--kubeconfig={cluster.kubeconfig}",
            "create",
            "-f",
            "-",
            "-o",
            "jsonpath={.status.allowed}",
        ],
        input=json.dumps(review),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip() == "true"


@pytest.mark.parametrize(
    "file", ["namespace.yaml", "rbac.yaml", "hub.yaml", "networkpolicy.yaml", "networkpolicy-internet.yaml"]
)
def test_manifests_pass_the_api_servers_validation(k8s_cluster, hub_kubeconfig, file):
    text = manifest_for_run(k8s_cluster, file)
    if file == "namespace.yaml":  # the run's namespace exists already: validate a sibling name
        text = text.replace(f"name: {k8s_cluster.namespace}", f"name: {k8s_cluster.namespace}-dry")
    proc = subprocess.run(
        [k8s_cluster.kubectl, f"--kubeconfig={k8s_cluster.kubeconfig}", "apply", "--dry-run=server", "-f", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


NEEDED = [
    ("create", "pods"),
    ("delete", "pods"),
    ("watch", "pods"),
    ("create", "pods/exec"),
    ("get", "pods/log"),
    ("create", "persistentvolumeclaims"),
    ("delete", "persistentvolumeclaims"),
    ("list", "events"),
]
REFUSED = [
    ("create", "secrets"),
    ("get", "secrets"),
    ("create", "deployments"),
    ("create", "services"),
    ("patch", "pods"),
    ("create", "roles"),
    ("delete", "persistentvolumes"),
]


def test_service_account_has_what_the_hub_needs_and_no_more(k8s_cluster, hub_kubeconfig):
    for verb, resource in NEEDED:
        assert can_i(k8s_cluster, verb, resource), f"the hub needs to {verb} {resource}"
    for verb, resource in REFUSED:
        assert not can_i(k8s_cluster, verb, resource), f"the hub must not {verb} {resource}"
    assert may(k8s_cluster, "list", "metrics.k8s.io", "pods")  # the labs' metrics, where a metrics server runs
    assert not may(k8s_cluster, "list", "metrics.k8s.io", "nodes")
    assert can_i(k8s_cluster, "list", "nodes", namespaced=False)
    assert can_i(k8s_cluster, "get", "nodes/proxy", namespaced=False)
    assert not can_i(k8s_cluster, "delete", "nodes", namespaced=False)
    other = subprocess.run(
        [
            k8s_cluster.kubectl,
            f"--kubeconfig={k8s_cluster.kubeconfig}",
            "auth",
            "can-i",
            "create",
            "pods",
            "-n",
            "kube-system",
            f"--as=system:serviceaccount:{k8s_cluster.namespace}:stellars-hub",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    assert other == "no"
