"""The tool pod run_tool creates on Kubernetes (backups, restores), compared as a structure."""

from __future__ import annotations

from stellars_hub.backends.kubernetes import toolpod

MOUNTS = {"jupyterlab-ann_workspace": ("/volume", "ro"), "/srv/backups": ("/backup", "rw")}


def test_claims_read_only_where_only_read_and_host_paths_as_host_path_volumes():
    pod = toolpod.manifest("stellars-tool-1", "lab:1", ["sh", "-c", "true"], MOUNTS)
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
    claim = volumes[mounts["/volume"]["name"]]
    assert claim["persistentVolumeClaim"] == {"claimName": "jupyterlab-ann-workspace", "readOnly": True}
    assert mounts["/volume"]["readOnly"] is True
    target = volumes[mounts["/backup"]["name"]]
    assert target["hostPath"] == {"path": "/srv/backups", "type": "DirectoryOrCreate"}
    assert mounts["/backup"]["readOnly"] is False


def test_never_restarted_no_account_token_and_labelled_for_a_deny_all_policy():
    pod = toolpod.manifest("stellars-tool-1", "lab:1", ["sh", "-c", "true"], MOUNTS)
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never" and spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False and "hostNetwork" not in spec
    assert pod["metadata"]["labels"][toolpod.TOOL_LABEL] == "1"
    (tool,) = spec["containers"]
    assert tool["command"] == ["sh", "-c", "true"] and tool["image"] == "lab:1"
    assert "affinity" not in spec  # anywhere, unless a claim in use says where


def test_on_the_node_that_holds_a_claim_in_use():
    pod = toolpod.manifest("stellars-tool-1", "lab:1", ["true"], MOUNTS, node="node-7")
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms == {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-7"]}]}]
    }
    assert "nodeName" not in pod["spec"]  # the scheduler places it (and binds a claim still waiting)


def test_image_errors_end_the_tool():
    assert {"ErrImagePull", "ImagePullBackOff", "InvalidImageName"} <= toolpod.CANNOT_START
    assert "ContainerCreating" not in toolpod.CANNOT_START


def test_it_names_the_platform_volumes_it_mounts_for_a_restarted_hub():
    pod = toolpod.manifest("stellars-tool-1", "lab:1", ["true"], MOUNTS)
    assert toolpod.volumes_of(pod["metadata"]["annotations"]) == ("jupyterlab-ann_workspace",)  # not the host path
    assert toolpod.volumes_of(None) == () and toolpod.volumes_of({toolpod.VOLUMES_ANNOTATION: "{"}) == ()


def test_how_a_tool_pod_ended_from_its_status():
    from types import SimpleNamespace as NS

    def status(*states):
        return NS(container_statuses=[NS(state=NS(terminated=t)) for t in states])

    assert toolpod.exit_code(status(NS(exit_code=0))) == 0 and toolpod.exit_code(status(NS(exit_code=3))) == 3
    assert toolpod.exit_code(status(None)) is None  # still running
    assert toolpod.exit_code(NS(container_statuses=None)) is None and toolpod.exit_code(None) is None
