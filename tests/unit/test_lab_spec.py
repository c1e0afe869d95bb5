"""One neutral LabSpec, two pure renderers: each compared by the structure it produces (as
KubeSpawner tests make_pod), and both from the same spec giving the lab the same thing."""

from __future__ import annotations

import pytest

from stellars_hub.backends.docker import hostconfig
from stellars_hub.backends.kubernetes import podspec
from stellars_hub.lab import spec as labspec
from stellars_hub.lab.spec import OWN, POLICY, PROJECT, SHARED, LabSpec, Mount

OWN_VOLUMES = (
    Mount("jupyterlab-ann_home", "/home", role=OWN),
    Mount("jupyterlab-ann_workspace", "/home/lab/workspace", role=OWN),
    Mount("jupyterhub_shared", "/mnt/shared", role=SHARED),
)
POLICY_MOUNTS = [
    {"source": "/srv/data", "target": "/mnt/data", "mode": "ro"},
    {"source": "team_data", "target": "/mnt/team", "mode": "rw"},
]
PROJECT_MOUNTS = [  # a member's own group's folder, and one the user views
    {"source": "jupyterhub-group-team_project", "target": "/mnt/groups/team", "mode": "rw"},
    {"source": "jupyterhub-group-ops_project", "target": "/mnt/groups/ops", "mode": "ro"},
]


def full_spec(**changes) -> LabSpec:
    args = dict(
        image="lab:gpu",
        memory_mb=1024,
        cpus=1.5,
        pids=512,
        gpus=["0", "2"],
        policy_mounts=POLICY_MOUNTS,
        project_mounts=PROJECT_MOUNTS,
        volumes=OWN_VOLUMES,
        env={"COURSE": "x"},
        user_env={"MINE": "1", "COURSE": "mine"},
    )
    return labspec.build(**{**args, **changes})


def test_build_puts_group_variables_over_the_users_and_adds_the_limits():
    spec = full_spec()
    assert dict(spec.env) == {"COURSE": "x", "MINE": "1", "MEM_LIMIT": str(2**30), "CPU_LIMIT": "1.5"}
    assert spec.memory_bytes == 2**30 and spec.cpus == 1.5 and spec.pids == 512 and spec.gpus == 2
    assert [m.role for m in spec.mounts] == [OWN, OWN, SHARED, POLICY, POLICY, PROJECT, PROJECT]
    assert spec.mounts[4] == Mount("team_data", "/mnt/team", read_only=False, role=POLICY)
    assert spec.mounts[-1] == Mount("jupyterhub-group-ops_project", "/mnt/groups/ops", read_only=True, role=PROJECT)
    assert spec.image == "lab:gpu"
    with pytest.raises(TypeError):
        spec.env["X"] = "y"  # a spec never changes once built


def test_fingerprint_follows_everything_the_lab_gets_and_nothing_else():
    base = full_spec()
    assert full_spec().fingerprint == base.fingerprint
    for changed in (
        full_spec(memory_mb=2048),
        full_spec(gpus="all"),
        full_spec(privileged=True),
        full_spec(engine_socket=True),
        full_spec(env={"COURSE": "y"}),
        full_spec(volumes=OWN_VOLUMES[:2]),
        full_spec(policy_mounts=POLICY_MOUNTS[:1]),
        full_spec(image="lab:cpu"),
        full_spec(project_mounts=PROJECT_MOUNTS[:1]),
        full_spec(project_mounts=[{**PROJECT_MOUNTS[0], "mode": "ro"}, PROJECT_MOUNTS[1]]),
    ):
        assert changed.fingerprint != base.fingerprint
    assert base.labels == {labspec.SPEC_LABEL: base.fingerprint}


def test_cpus_beyond_the_engines_become_all_of_them():
    assert full_spec(cpus=16).with_cpus_at_most(4).cpus == 4
    assert full_spec(cpus=2).with_cpus_at_most(4).cpus == 2
    assert full_spec(cpus=0).with_cpus_at_most(4).cpus == 0  # no limit stays no limit
    assert full_spec(cpus=16).with_cpus_at_most(None).cpus == 16


def test_docker_rendering():
    lab = hostconfig.render(full_spec())
    assert lab.binds == {
        "jupyterlab-ann_home": {"bind": "/home", "mode": "rw"},
        "jupyterlab-ann_workspace": {"bind": "/home/lab/workspace", "mode": "rw"},
        "jupyterhub_shared": {"bind": "/mnt/shared", "mode": "rw"},
        "/srv/data": {"bind": "/mnt/data", "mode": "ro"},
        "team_data": {"bind": "/mnt/team", "mode": "rw"},
        "jupyterhub-group-team_project": {"bind": "/mnt/groups/team", "mode": "rw"},
        "jupyterhub-group-ops_project": {"bind": "/mnt/groups/ops", "mode": "ro"},
    }
    assert lab.image == "lab:gpu"
    assert lab.host_config == {
        "mem_limit": 2**30,
        "memswap_limit": 2**30,
        "nano_cpus": 1_500_000_000,
        "pids_limit": 512,
        "security_opt": ["no-new-privileges:true"],
        "cap_drop": list(labspec.CAP_DROP),
        "device_requests": [{"Driver": "nvidia", "DeviceIDs": ["0", "2"], "Capabilities": [["gpu"]]}],
    }
    assert lab.env == {
        "COURSE": "x",
        "MINE": "1",
        "MEM_LIMIT": str(2**30),
        "CPU_LIMIT": "1.5",
        "ENABLE_GPU_SUPPORT": "1",
        "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
        "NVIDIA_VISIBLE_DEVICES": "0,2",
    }
    assert lab.labels == full_spec().labels


def test_docker_rendering_of_privileges_and_no_limits():
    lab = hostconfig.render(labspec.build(privileged=True, engine_socket=True, gpus="all"))
    assert lab.host_config == {
        "privileged": True,
        "device_requests": [{"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}],
    }
    assert lab.binds == {"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"}}
    assert lab.env["NVIDIA_VISIBLE_DEVICES"] == "all"
    none = hostconfig.render(labspec.build())
    assert none.host_config["device_requests"] == [] and none.env["NVIDIA_VISIBLE_DEVICES"] == "none"


def test_kubernetes_rendering():
    site = podspec.PodSite(image="lab:1", image_pull_policy="Never")
    traits = podspec.render(full_spec(), site)
    assert traits["volumes"] == [
        {"name": "lab-0", "persistentVolumeClaim": {"claimName": "jupyterlab-ann-home", "readOnly": False}},
        {"name": "lab-1", "persistentVolumeClaim": {"claimName": "jupyterlab-ann-workspace", "readOnly": False}},
        {"name": "lab-2", "persistentVolumeClaim": {"claimName": "jupyterhub-shared", "readOnly": False}},
        {"name": "policy-3", "hostPath": {"path": "/srv/data", "type": "DirectoryOrCreate"}},
        {"name": "policy-4", "persistentVolumeClaim": {"claimName": "team-data", "readOnly": False}},
        {
            "name": "project-5",
            "persistentVolumeClaim": {"claimName": "jupyterhub-group-team-project", "readOnly": False},
        },
        {"name": "project-6", "persistentVolumeClaim": {"claimName": "jupyterhub-group-ops-project", "readOnly": True}},
    ]
    assert traits["volume_mounts"] == [
        {"name": "lab-0", "mountPath": "/home", "readOnly": False},
        {"name": "lab-1", "mountPath": "/home/lab/workspace", "readOnly": False},
        {"name": "lab-2", "mountPath": "/mnt/shared", "readOnly": False},
        {"name": "policy-3", "mountPath": "/mnt/data", "readOnly": True},
        {"name": "policy-4", "mountPath": "/mnt/team", "readOnly": False},
        {"name": "project-5", "mountPath": "/mnt/groups/team", "readOnly": False},
        {"name": "project-6", "mountPath": "/mnt/groups/ops", "readOnly": True},
    ]
    assert traits["image"] == "lab:gpu"  # the spec's (a chosen profile's) over the site's
    init = traits["init_containers"][0]
    assert init["image"] == "lab:gpu" and init["imagePullPolicy"] == "Never"  # the lab's own content
    assert [m["name"] for m in init["volumeMounts"]] == ["lab-0", "lab-1", "lab-2"]  # never a policy's or project's
    assert podspec.render(full_spec(image=""), site)["image"] == "lab:1"  # no profile: the site's image
    assert {
        k: traits[k] for k in ("mem_limit", "mem_guarantee", "cpu_limit", "cpu_guarantee", "extra_resource_limits")
    } == {
        "mem_limit": 2**30,
        "mem_guarantee": 2**29,
        "cpu_limit": 1.5,
        "cpu_guarantee": 0.15,
        "extra_resource_limits": {"nvidia.com/gpu": "2"},
    }
    assert traits["extra_labels"] == full_spec().labels
    assert "container_security_context" not in traits  # the site's own callable decides
    context = podspec.render(full_spec(), podspec.PodSite(security_context={}))["container_security_context"]
    assert context == {"capabilities": {"drop": list(labspec.CAP_DROP)}}
    assert podspec.environment(full_spec()) == {
        "COURSE": "x",
        "MINE": "1",
        "MEM_LIMIT": str(2**30),
        "CPU_LIMIT": "1.5",
        "ENABLE_GPU_SUPPORT": "1",
        "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
    }


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"privileged": True, "gpus": "all"},
        {"gpus": "none", "pids": 0},
        {"memory_mb": 0, "cpus": 0},
        {"project_mounts": [], "image": "lab:cpu"},
    ],
)
def test_both_backends_give_the_lab_the_same_thing(changes):
    """Rendered from one spec, a Docker lab and a Kubernetes lab mount the same volumes at the same
    places with the same access, have the same limits and privileges, and see the same variables
    (apart from which GPUs: on Kubernetes the device plugin names them)."""
    spec = full_spec(**changes)
    docker = hostconfig.render(spec)
    kube = podspec.render(spec, podspec.PodSite(security_context={}))

    by_target = {m["mountPath"]: m for m in kube["volume_mounts"]}
    volumes = {v["name"]: v for v in kube["volumes"]}
    kube_mounts = {}
    for target, mount in by_target.items():
        volume = volumes[mount["name"]]
        source = volume["hostPath"]["path"] if "hostPath" in volume else volume["persistentVolumeClaim"]["claimName"]
        kube_mounts[target] = (source, mount["readOnly"])
    docker_mounts = {
        b["bind"]: (podspec.claim_name(s) if not s.startswith("/") else s, b["mode"] == "ro")
        for s, b in docker.binds.items()
    }
    assert kube_mounts == docker_mounts
    assert kube["image"] == docker.image == spec.image

    host = docker.host_config
    assert kube["mem_limit"] == host.get("mem_limit")
    assert (kube["cpu_limit"] or 0) * 1e9 == host.get("nano_cpus", 0)
    gpus = podspec.gpu_count(spec)
    assert bool(gpus) == bool(host["device_requests"])
    assert kube["extra_resource_limits"].get("nvidia.com/gpu") == (str(gpus) if gpus else None)
    context = kube["container_security_context"]
    assert bool(context.get("privileged")) == bool(host.get("privileged"))
    assert context.get("capabilities", {}).get("drop", []) == host.get("cap_drop", [])

    kube_env = podspec.environment(spec)
    differ = {k for k in set(docker.env) | set(kube_env) if docker.env.get(k) != kube_env.get(k)}
    assert differ <= {"NVIDIA_VISIBLE_DEVICES"} and (not differ or gpus)
