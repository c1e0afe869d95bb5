"""The kubernetes backend's pure parts: names, quantities, the pod document, the wiring."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import kube_config
from kubespawner.slugs import escape_slug
from traitlets.config import Config

from stellars_hub import hubconfig, naming, settings
from stellars_hub.backends.kubernetes import podspec
from stellars_hub.backends.kubernetes.podspec import claim_name
from stellars_hub.backends.kubernetes.runtime import KubernetesRuntime, _inspect_document, parse_quantity
from stellars_hub.backends.kubernetes.spawner import StellarsKubeSpawner
from stellars_hub.features import configurables
from stellars_hub.lab import spec as labspec

NAMES = ["ann", "Ann", "first.last", "a-b", "ünï", "x_y", "0day"]


@pytest.mark.parametrize("name", NAMES)
def test_pod_name_is_the_docker_container_name(name):
    # the spawner's pod template uses KubeSpawner's legacy escaping: it must equal naming.py's
    template = StellarsKubeSpawner._pod_name_template_default(None)
    assert template.format(user_server=escape_slug(name)) == naming.container_name(name)
    named = f"{escape_slug(name)}--{escape_slug('gpu box')}"  # KubeSpawner's user_server of a named server
    assert template.format(user_server=named) == naming.server_container_name(name, "gpu box")


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
    pod = {
        "metadata": {"name": "jupyterlab-ann", "namespace": "ns", "uid": "u-1"},
        "spec": {"nodeName": "n1"},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.5",
            "containerStatuses": [
                {"name": "notebook", "restartCount": 2, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}
            ],
        },
    }
    doc = _inspect_document(pod)
    assert doc["Id"] == "u-1" and doc["Name"] == "/jupyterlab-ann"
    assert doc["State"] == {"Running": True, "StartedAt": "2026-01-01T00:00:00Z", "Status": "running"}
    assert doc["RestartCount"] == 2 and doc["Pod"]["ip"] == "10.0.0.5"
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:01:00Z"
    assert _inspect_document(pod)["State"]["Running"] is False


def test_backend_kubernetes_wires_spawner_and_runtime(tmp_path):
    c = Config()
    env = {
        "JUPYTERHUB_BACKEND": "kubernetes",
        "JUPYTERHUB_DATA_DIR": str(tmp_path),
        "JUPYTERHUB_GPU_ENABLED": "0",
        "JUPYTERHUB_K8S_NAMESPACE": "labs",
        "JUPYTERHUB_K8S_VOLUME_SIZE": "5Gi",
    }
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
    assert c.Platform.runtime_class.__name__ == "DockerRuntime"


@pytest.fixture
async def kube_spawner_of(tmp_path, monkeypatch):
    """Spawners (of a server name) with a mock user; their client is configured for an address
    nothing listens on (building a manifest never calls the API server)."""
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(config))
    return lambda server="": StellarsKubeSpawner(_mock=True, orm_spawner=SimpleNamespace(name=server, server=None))


@pytest.fixture
async def kube_spawner(kube_spawner_of):
    return kube_spawner_of()


def as_dict(pod) -> dict:
    """The manifest as the API server receives it (camelCase JSON)."""
    return ApiClient().sanitize_for_serialization(pod)


def lab_of(pod: dict) -> dict:
    return next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")


def start(sp, **policy) -> labspec.LabSpec:
    """What the policies feature's pre-spawn step gives a spawner before a start."""
    sp.lab_spec = labspec.build(volumes=sp.lab_volumes(naming.VolumeNames()), **policy)
    return sp.lab_spec


async def test_pod_manifest_carries_claims_init_restart_policy_and_lab_env(kube_spawner):
    sp = kube_spawner
    sp.lab_environment = {"JUPYTERHUB_SERVICE_MLFLOW": "0"}
    sp.host_network = True
    start(sp)
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


async def test_a_named_server_has_its_own_pod_and_claims(kube_spawner_of):
    sp = kube_spawner_of("gpu")
    start(sp)
    pod = as_dict(await sp.get_pod_manifest())
    assert pod["metadata"]["name"] == naming.server_container_name(sp.user.name, "gpu")
    claims = {v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"]}
    own = naming.server_volume_names(sp.user.name, "gpu")
    assert claims == {claim_name(n) for n in own.values()} | {"jupyterhub-shared"}
    assert not claims & {claim_name(n) for n in naming.user_volume_names(sp.user.name).values()}


async def test_gpu_and_privileged_group_reach_the_pod_and_leave_again(kube_spawner):
    sp = kube_spawner
    start(sp, gpus="all", privileged=True)
    lab = lab_of(as_dict(await sp.get_pod_manifest()))
    assert lab["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert lab["securityContext"]["privileged"] is True
    env = {e["name"]: e.get("value") for e in lab["env"]}
    # the device plugin names the pod's GPUs: a value of ours would override its choice
    assert "NVIDIA_VISIBLE_DEVICES" not in env and env["ENABLE_GPU_SUPPORT"] == "1"
    # the next start without the grants: nothing kept from the last one
    start(sp)
    lab = lab_of(as_dict(await sp.get_pod_manifest()))
    assert "nvidia.com/gpu" not in (lab.get("resources", {}).get("limits") or {})
    assert not lab["securityContext"].get("privileged")
    assert {e["name"]: e.get("value") for e in lab["env"]}["NVIDIA_VISIBLE_DEVICES"] == "none"


async def test_policy_limits_env_mounts_and_label_reach_the_pod_and_leave_again(kube_spawner):
    sp = kube_spawner
    sp.volumes = [{"name": "site", "emptyDir": {}}]  # the site's own configuration stays
    sp.mem_limit = "512M"  # JupyterHub's units: 2**29 bytes
    spec = start(
        sp,
        memory_mb=1024,
        cpus=2,
        gpus=["0", "1"],
        env={"COURSE": "x"},
        policy_mounts=[
            {"source": "/srv/data", "target": "/mnt/data", "mode": "ro"},
            {"source": "team_data", "target": "/mnt/team", "mode": "rw"},
        ],
    )
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
    assert pod["metadata"]["labels"][labspec.SPEC_LABEL] == spec.fingerprint
    assert set(labspec.CAP_DROP) <= set(lab["securityContext"]["capabilities"]["drop"])
    # the configured traits are as the site left them
    assert sp.volumes == [{"name": "site", "emptyDir": {}}] and sp.mem_limit == 2**29 and sp.cpu_limit is None
    # the next start, with no group: the site's memory limit, no CPU limit, none of the policy
    start(sp)
    pod = as_dict(await sp.get_pod_manifest())
    lab = lab_of(pod)
    assert lab["resources"]["limits"] == {"memory": 2**29}
    assert lab["resources"]["requests"] == {"memory": 2**28}
    assert "COURSE" not in {e["name"] for e in lab["env"]}
    assert not {"/mnt/data", "/mnt/team"} & {m["mountPath"] for m in lab["volumeMounts"]}


def test_requests_keep_a_site_guarantee_below_the_limit():
    site = podspec.PodSite(mem_guarantee=2**31, cpu_guarantee=0.5)
    res = podspec.resources(labspec.LabSpec(memory_bytes=2**30, cpus=4), site)
    assert (res["mem_limit"], res["mem_guarantee"], res["cpu_limit"], res["cpu_guarantee"]) == (2**30, 2**30, 4.0, 0.5)


def test_gpu_count_from_the_spec():
    assert podspec.gpu_count(labspec.build(gpus="all")) == 1  # a pod asks for a count: "all" is one
    assert podspec.gpu_count(labspec.build(gpus="none")) == 0
    assert podspec.gpu_count(labspec.build(gpus=["0", "3", "5"])) == 3


@pytest.mark.parametrize(
    "source,why", [("Team.Data", "not a valid claim name"), ("jupyterlab-bob_home", "a lab's own storage")]
)
def test_a_policy_volume_that_is_no_claim_or_a_labs_own_is_refused(source, why):
    spec = labspec.build(policy_mounts=[{"source": source, "target": "/mnt/t", "mode": "ro"}])
    with pytest.raises(ValueError, match=why):
        podspec.pod_volumes(spec)


async def test_docker_socket_group_is_refused_before_anything_is_created(kube_spawner):
    sp = kube_spawner
    start(sp, engine_socket=True)
    with pytest.raises(RuntimeError, match="docker-sock.*no Docker engine"):
        await sp.start()


async def test_a_start_without_a_spec_is_refused(kube_spawner):
    with pytest.raises(RuntimeError, match="no lab spec"):
        await kube_spawner.start()
