"""The kubernetes backend's pure parts: names, quantities, the pod document, the wiring."""

from __future__ import annotations

import pytest
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import kube_config
from kubespawner.slugs import escape_slug
from traitlets.config import Config

from stellars_hub import hubconfig, naming, settings
from stellars_hub.kube import claim_name, podspec
from stellars_hub.kube.spawner import StellarsKubeSpawner
from stellars_hub.platform import configurables
from stellars_hub.policies import labspec
from stellars_hub.policies.merge import Effective
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
    env = {"JUPYTERHUB_BACKEND": "kubernetes", "JUPYTERHUB_DATA_DIR": str(tmp_path),
           "JUPYTERHUB_GPU_ENABLED": "0", "JUPYTERHUB_K8S_NAMESPACE": "labs", "JUPYTERHUB_K8S_VOLUME_SIZE": "5Gi"}
    hubconfig.apply(c, env)
    assert c.JupyterHub.spawner_class is StellarsKubeSpawner
    assert c.StellarsKubeSpawner.namespace == "labs" and c.StellarsKubeSpawner.storage_capacity == "5Gi"
    assert c.Platform.runtime_class is KubernetesRuntime
    made = KubernetesRuntime.for_settings(settings.load(configurables(), env))
    assert isinstance(made, KubernetesRuntime) and made.namespace == "labs"


def test_backend_default_is_docker(tmp_path):
    c = Config()
    hubconfig.apply(c, {"JUPYTERHUB_DATA_DIR": str(tmp_path), "JUPYTERHUB_GPU_ENABLED": "0"})
    assert c.JupyterHub.spawner_class.__name__ == "StellarsSpawner"
    assert "runtime_class" not in c.Platform  # the Platform's default: DockerRuntime


@pytest.fixture
async def kube_spawner(tmp_path, monkeypatch):
    """A spawner with a mock user; its client is configured for an address nothing listens on
    (building a manifest never calls the API server)."""
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\ncurrent-context: x\n"
                      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                      "users: [{name: u, user: {token: t}}]\n"
                      "contexts: [{name: x, context: {cluster: c, user: u}}]\n")
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(config))
    return StellarsKubeSpawner(_mock=True)


def as_dict(pod) -> dict:
    """The manifest as the API server receives it (camelCase JSON)."""
    return ApiClient().sanitize_for_serialization(pod)


def lab_of(pod: dict) -> dict:
    return next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")


async def test_pod_manifest_carries_claims_init_restart_policy_and_lab_env(kube_spawner):
    sp = kube_spawner
    sp.lab_environment = {"JUPYTERHUB_SERVICE_MLFLOW": "0"}
    sp.host_network = True
    pod = as_dict(await sp.get_pod_manifest())
    assert pod["metadata"]["name"] == naming.container_name(sp.user.name)
    assert pod["spec"]["restartPolicy"] == "Always" and pod["spec"]["hostNetwork"] is True
    claims = {v["persistentVolumeClaim"]["claimName"]: v["name"] for v in pod["spec"]["volumes"]}
    expected = {claim_name(naming.volume_name(sp.user.name, v.key)) for v in naming.USER_VOLUMES}
    assert set(claims) == expected | {"jupyterhub-shared"}
    lab = lab_of(pod)
    mounts = {m["name"]: m["mountPath"] for m in lab["volumeMounts"]}
    assert {mounts[claims[c]] for c in expected} == {v.mount for v in naming.USER_VOLUMES}
    assert mounts[claims["jupyterhub-shared"]] == naming.SHARED_MOUNT
    env = {e["name"]: e.get("value") for e in lab["env"]}
    assert env["JUPYTERHUB_SERVICE_MLFLOW"] == "0" and env["ENABLE_GPU_SUPPORT"] == "0"
    assert "nvidia.com/gpu" not in (lab.get("resources", {}).get("limits") or {})
    init = pod["spec"]["initContainers"][0]
    assert init["securityContext"]["runAsUser"] == 0 and "chown --reference=/home " in init["command"][-1]


async def test_gpu_and_privileged_group_reach_the_pod_and_leave_again(kube_spawner):
    sp = kube_spawner
    sp.gpu_enabled = True
    sp.start_host_config = {"privileged": True}
    lab = lab_of(as_dict(await sp.get_pod_manifest()))
    assert lab["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert lab["securityContext"]["privileged"] is True
    env = {e["name"]: e.get("value") for e in lab["env"]}
    # the device plugin names the pod's GPUs: a value of ours would override its choice
    assert "NVIDIA_VISIBLE_DEVICES" not in env and env["ENABLE_GPU_SUPPORT"] == "1"
    # the next start without the grants: nothing kept from the last one
    sp.gpu_enabled = False
    sp.start_host_config = {}
    lab = lab_of(as_dict(await sp.get_pod_manifest()))
    assert "nvidia.com/gpu" not in (lab.get("resources", {}).get("limits") or {})
    assert not lab["securityContext"].get("privileged")
    assert {e["name"]: e.get("value") for e in lab["env"]}["NVIDIA_VISIBLE_DEVICES"] == "none"


def policy_start(sp, eff: Effective) -> None:
    """What the policies feature's pre-spawn step sets on a spawner before a start."""
    spec = labspec.build(eff)
    sp.start_binds, sp.start_host_config, sp.start_env, sp.start_labels = (
        spec.binds, spec.host_config, spec.env, spec.labels)


async def test_policy_limits_env_mounts_and_label_reach_the_pod_and_leave_again(kube_spawner):
    sp = kube_spawner
    sp.volumes = [{"name": "site", "emptyDir": {}}]  # the site's own configuration stays
    sp.mem_limit = "512M"  # JupyterHub's units: 2**29 bytes
    policy_start(sp, Effective(memory_mb=1024, cpus=2, gpus=["0", "1"], env={"COURSE": "x"}, mounts=[
        {"source": "/srv/data", "target": "/mnt/data", "mode": "ro"},
        {"source": "team_data", "target": "/mnt/team", "mode": "rw"}]))
    pod = as_dict(await sp.get_pod_manifest())
    lab = lab_of(pod)
    assert lab["resources"]["limits"] == {"memory": 2**30, "cpu": 2.0, "nvidia.com/gpu": "2"}
    assert lab["resources"]["requests"] == {"memory": 2**29, "cpu": 0.2}
    env = {e["name"]: e.get("value") for e in lab["env"]}
    assert env["COURSE"] == "x" and env["MEM_LIMIT"] == str(2**30) and "NVIDIA_VISIBLE_DEVICES" not in env
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in lab["volumeMounts"]}
    assert volumes[mounts["/mnt/data"]["name"]]["hostPath"]["path"] == "/srv/data" and mounts["/mnt/data"]["readOnly"]
    team = volumes[mounts["/mnt/team"]["name"]]["persistentVolumeClaim"]
    assert team == {"claimName": "team-data", "readOnly": False} and not mounts["/mnt/team"]["readOnly"]
    assert "site" in volumes
    assert pod["metadata"]["labels"][labspec.SPEC_LABEL] == sp.start_labels[labspec.SPEC_LABEL]
    assert set(labspec.CAP_DROP) <= set(lab["securityContext"]["capabilities"]["drop"])
    # the configured traits are as the site left them
    assert sp.volumes == [{"name": "site", "emptyDir": {}}] and sp.mem_limit == 2**29 and sp.cpu_limit is None
    # the next start, with no group: the site's memory limit, no CPU limit, none of the policy
    policy_start(sp, Effective())
    pod = as_dict(await sp.get_pod_manifest())
    lab = lab_of(pod)
    assert lab["resources"]["limits"] == {"memory": 2**29}
    assert lab["resources"]["requests"] == {"memory": 2**28}
    assert "COURSE" not in {e["name"] for e in lab["env"]}
    assert not {"/mnt/data", "/mnt/team"} & {m["mountPath"] for m in lab["volumeMounts"]}


def test_requests_keep_a_site_guarantee_below_the_limit():
    configured = podspec.Resources(mem_guarantee=2**31, cpu_guarantee=0.5)
    res = podspec.resources({"mem_limit": 2**30, "nano_cpus": 4 * 10**9}, configured,
                            gpus=0, memory_fraction=0.5, cpu_fraction=0.1)
    assert (res.mem_limit, res.mem_guarantee, res.cpu_limit, res.cpu_guarantee) == (2**30, 2**30, 4.0, 0.5)


def test_gpu_count_from_the_policy_or_the_hub_setting():
    assert podspec.gpu_count({}, gpu_enabled=True) == 1
    assert podspec.gpu_count({}, gpu_enabled=False) == 0
    assert podspec.gpu_count({"device_requests": []}, gpu_enabled=True) == 0  # a policy took them away
    assert podspec.gpu_count({"device_requests": labspec.gpu_request("all")}, gpu_enabled=False) == 1
    assert podspec.gpu_count({"device_requests": labspec.gpu_request(["0", "3", "5"])}, gpu_enabled=False) == 3


def test_a_volume_name_that_is_no_claim_name_is_refused():
    with pytest.raises(ValueError, match="not a valid claim name"):
        podspec.policy_mounts({"Team.Data": {"bind": "/mnt/t", "mode": "ro"}})


async def test_docker_socket_group_is_refused_before_anything_is_created(kube_spawner):
    sp = kube_spawner
    sp.start_binds = {"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"}}
    with pytest.raises(RuntimeError, match="docker-sock group.*no Docker engine"):
        await sp.start()
