"""Reconcile on Kubernetes, through the same runtime interface as on Docker: at its start the hub
removes a pod it made (labelled with its id) whose server it does not run and a tool pod an
earlier run of it left, keeps its running labs' pods, and never touches a pod of another hub in
the namespace."""

from __future__ import annotations

import json
import time

from harness import LAB_IMAGE, RUN_PREFIX

from stellars_hub import naming
from stellars_hub.runtime.base import HUB_LABEL, TOOL_HUB_LABEL, TOOL_RUN_LABEL


def _pod(name: str, labels: dict, command: tuple = ("sleep", "3600")) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "hostNetwork": True,
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "notebook",
                        "image": LAB_IMAGE,
                        "imagePullPolicy": "IfNotPresent",
                        "command": list(command),
                    }
                ],
            },
        }
    )


def test_pods_of_this_hub_without_a_server_go_at_its_start_and_the_rest_stay(kube_hub, k8s_cluster):
    name, session = kube_hub.new_user("kc")
    kube_hub.start_server(session, name, timeout=300)
    hub_id = (kube_hub.data_dir / "hub-id").read_text().strip()
    lab = k8s_cluster.get("pod", naming.container_name(name))
    assert lab["metadata"]["labels"][HUB_LABEL] == hub_id

    # a pod of this hub with no server (its hub died between the API server's step and its own
    # commit), one of another hub sharing the namespace, and a tool pod (a restore's) that an
    # earlier run of this hub left when it was killed
    stray, foreign = f"jupyterlab-{RUN_PREFIX}stray", f"jupyterlab-{RUN_PREFIX}foreign"
    tool = f"stellars-tool-{RUN_PREFIX}earlier"
    for pod, owner in ((stray, hub_id), (foreign, "anotherhub")):
        k8s_cluster.run("apply", "-f", "-", input=_pod(pod, {HUB_LABEL: owner}))
    k8s_cluster.run(
        "apply", "-f", "-", input=_pod(tool, {TOOL_HUB_LABEL: hub_id, TOOL_RUN_LABEL: "earlierrun"}, ("true",))
    )
    try:
        kube_hub.stop()
        kube_hub.start(timeout=120)
        deadline = time.monotonic() + 120
        while k8s_cluster.get("pod", stray) is not None or k8s_cluster.get("pod", tool) is not None:
            assert time.monotonic() < deadline, "the stray pod or the earlier run's tool stayed after the hub's start"
            time.sleep(1)
        assert k8s_cluster.get("pod", foreign) is not None
        still = k8s_cluster.get("pod", naming.container_name(name))
        assert still is not None and still["metadata"]["uid"] == lab["metadata"]["uid"]
        assert kube_hub.api(session, "GET", f"users/{name}").json()["servers"][""]["ready"]
        assert "Removed lab " + stray in kube_hub.log_text()
    finally:
        k8s_cluster.run("delete", "pod", foreign, stray, tool, "--ignore-not-found", "--wait=false", check=False)
    kube_hub.stop_server(session, name, timeout=180)
    deadline = time.monotonic() + 120
    while k8s_cluster.get("pod", naming.container_name(name)) is not None:
        assert time.monotonic() < deadline, "the lab's pod stayed after the stop"
        time.sleep(1)
