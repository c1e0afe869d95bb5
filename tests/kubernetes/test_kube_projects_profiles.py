"""Group project folders and a lab per need on the Kubernetes backend, as the API server reports
the pods: the chosen profile's image (a second local image) runs the lab and fills its claims;
the group's folder is a ReadWriteMany claim the hub made, mounted read-write in the member's pod
and read-only in the viewer's; a profile not offered is refused before any pod exists. The test
cluster's hostPath storage binds ReadWriteMany claims on its one node; a cluster of several nodes
needs storage that really offers it (README, Kubernetes)."""

from __future__ import annotations

import docker
import pytest
from harness import LAB_IMAGE, RUN_PREFIX, build_second_lab_image, engine

from stellars_hub import naming

ALT_IMAGE = f"stellars-lab:{RUN_PREFIX}-kalt"
HUB_ENV = {"JUPYTERHUB_LAB_MEMORY_LIMIT": "2048"}
MiB = 2**20


@pytest.fixture(scope="module", autouse=True)
def alt_image():
    yield build_second_lab_image(ALT_IMAGE)  # on the engine the test cluster's kubelet uses
    try:
        engine().images.remove(ALT_IMAGE, force=True)
    except docker.errors.APIError:
        pass


def notebook(pod: dict, init: bool = False) -> dict:
    containers = pod["spec"]["initContainers" if init else "containers"]
    return next(c for c in containers if c["name"] == ("volume-init" if init else "notebook"))


def mount_of(pod: dict, path: str) -> tuple[str, bool]:
    mount = next(m for m in notebook(pod)["volumeMounts"] if m["mountPath"] == path)
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
    return volume["persistentVolumeClaim"]["claimName"], bool(mount.get("readOnly"))


def test_profile_image_and_project_folder_in_the_pods(kube_hub, k8s_cluster):
    admin = kube_hub.admin_session()
    team, readers = f"{RUN_PREFIX}kteam", f"{RUN_PREFIX}kread"
    ann, ann_s = kube_hub.new_user("kann")
    bob, bob_s = kube_hub.new_user("kbob")
    for group, user in ((team, ann), (readers, bob)):
        assert kube_hub.api(admin, "POST", f"groups/{group}").status_code == 201
        assert kube_hub.api(admin, "POST", f"groups/{group}/users", json={"users": [user]}).status_code == 200
    policy = {"profiles": [{"name": "std", "image": LAB_IMAGE}, {"name": "alt", "image": ALT_IMAGE, "memory_mb": 1536}]}
    assert kube_hub.api(admin, "PUT", f"groups/{team}/policy", json=policy).status_code == 200
    r = kube_hub.api(admin, "POST", f"groups/{team}/project", json={"viewers": readers})
    assert r.status_code == 201, r.text
    claim = r.json()["volume"].replace("_", "-")
    made = k8s_cluster.get("pvc", claim)
    assert made["spec"]["accessModes"] == ["ReadWriteMany"]  # every member's pod, on any node

    r = kube_hub.api(bob_s, "POST", f"users/{bob}/server", json={"profile": "alt"})
    assert r.status_code == 400 and "not offered" in r.json()["message"], r.text
    assert k8s_cluster.get("pod", naming.container_name(bob)) is None

    for name, session, body in ((ann, ann_s, {"profile": "alt"}), (bob, bob_s, None)):
        r = kube_hub.api(session, "POST", f"users/{name}/server", json=body)
        assert r.status_code in (201, 202), r.text
    for name, session in ((ann, ann_s), (bob, bob_s)):
        kube_hub.wait_server(session, name, ready=True, timeout=300)

    folder = f"/mnt/groups/{team}"
    pod = k8s_cluster.get("pod", naming.container_name(ann))
    assert notebook(pod)["image"] == ALT_IMAGE and notebook(pod, init=True)["image"] == ALT_IMAGE
    assert notebook(pod)["resources"]["limits"]["memory"] in ("1536Mi", str(1536 * MiB))
    assert mount_of(pod, folder) == (claim, False)
    lab = naming.container_name(ann)
    out = k8s_cluster.in_lab(lab, "sh", "-c", f"printf 'from ann' > {folder}/plan.txt && cat {folder}/plan.txt").stdout
    assert out == "from ann"

    pod = k8s_cluster.get("pod", naming.container_name(bob))
    assert notebook(pod)["image"] == LAB_IMAGE
    assert mount_of(pod, folder) == (claim, True)
    lab = naming.container_name(bob)
    assert k8s_cluster.in_lab(lab, "cat", f"{folder}/plan.txt").stdout == "from ann"
    denied = k8s_cluster.in_lab(lab, "touch", f"{folder}/bob.txt", check=False)
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr

    for name, session in ((ann, ann_s), (bob, bob_s)):
        kube_hub.stop_server(session, name, timeout=180)
