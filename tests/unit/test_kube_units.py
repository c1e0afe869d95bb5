"""The kubernetes backend's pure parts: names, quantities, the pod document, the wiring."""

from __future__ import annotations

import pytest
from kubespawner.slugs import escape_slug
from traitlets.config import Config

from stellars_hub import hubconfig, naming, runtime
from stellars_hub.kube import claim_name
from stellars_hub.kube.spawner import StellarsKubeSpawner
from stellars_hub.runtime.kubernetes import KubernetesRuntime, _inspect_document, parse_quantity

NAMES = ["ann", "Ann", "first.last", "a-b", "ünï", "x_y", "0day"]


@pytest.mark.parametrize("name", NAMES)
def test_pod_name_is_the_docker_container_name(name):
    # the spawner's pod template uses KubeSpawner's legacy escaping: it must equal naming.py's
    template = StellarsKubeSpawner._pod_name_template_default(None)
    assert template.format(escaped_username=escape_slug(name)) == naming.container_name(name)


@pytest.mark.parametrize("name", NAMES)
def test_claim_names_are_valid_and_distinct(name):
    claims = {claim_name(naming.volume_name(name, v.key)) for v in naming.USER_VOLUMES}
    assert len(claims) == len(naming.USER_VOLUMES)
    for claim in claims:
        assert claim.startswith(naming.container_name(name) + "-")
        assert all(ch.islower() or ch.isdigit() or ch == "-" for ch in claim)
    assert claim_name(naming.SHARED_VOLUME) == "jupyterhub-shared"


def test_claims_of_different_users_never_meet():
    seen = {}
    for name in NAMES + ["a", "a-2d", "ann-home"]:
        for v in naming.USER_VOLUMES:
            claim = claim_name(naming.volume_name(name, v.key))
            assert seen.setdefault(claim, name) == name


@pytest.mark.parametrize("text,value", [("512Mi", 512 * 2**20), ("2", 2), ("100m", 0.1), ("1G", 1e9), ("1e3", 1000)])
def test_parse_quantity(text, value):
    assert parse_quantity(text) == pytest.approx(value)


def test_parse_quantity_refuses_nonsense():
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity("lots")


def test_inspect_document_from_a_pod():
    pod = {"metadata": {"name": "jupyterlab-ann", "namespace": "ns", "uid": "u-1"},
           "spec": {"nodeName": "n1"},
           "status": {"phase": "Running", "podIP": "10.0.0.5", "containerStatuses": [
               {"name": "notebook", "restartCount": 2, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}}
    doc = _inspect_document(pod)
    assert doc["Id"] == "u-1" and doc["Name"] == "/jupyterlab-ann"
    assert doc["State"] == {"Running": True, "StartedAt": "2026-01-01T00:00:00Z", "Status": "running"}
    assert doc["RestartCount"] == 2 and doc["Pod"]["ip"] == "10.0.0.5"
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:01:00Z"
    assert _inspect_document(pod)["State"]["Running"] is False


def test_backend_kubernetes_wires_spawner_and_runtime(tmp_path):
    c = Config()
    try:
        hubconfig.apply(c, {"JUPYTERHUB_BACKEND": "kubernetes", "JUPYTERHUB_DATA_DIR": str(tmp_path),
                            "JUPYTERHUB_GPU_ENABLED": "0", "JUPYTERHUB_K8S_NAMESPACE": "labs",
                            "JUPYTERHUB_K8S_VOLUME_SIZE": "5Gi"})
        assert c.JupyterHub.spawner_class is StellarsKubeSpawner
        assert c.StellarsKubeSpawner.namespace == "labs" and c.StellarsKubeSpawner.storage_capacity == "5Gi"
        made = runtime.new_runtime()
        assert isinstance(made, KubernetesRuntime) and made.namespace == "labs"
    finally:
        runtime.configure("docker")
    assert isinstance(runtime.new_runtime(), runtime.DockerRuntime)


def test_backend_default_is_docker(tmp_path):
    c = Config()
    hubconfig.apply(c, {"JUPYTERHUB_DATA_DIR": str(tmp_path), "JUPYTERHUB_GPU_ENABLED": "0"})
    assert c.JupyterHub.spawner_class.__name__ == "StellarsSpawner"
    assert isinstance(runtime.new_runtime(), runtime.DockerRuntime)
