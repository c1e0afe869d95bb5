"""A lab the cluster can never place (its group's policy asks for more memory than the node has)
fails its start at once with a message naming what it asks for and what a node can give, on
the API and the progress stream the spawn page reads, instead of waiting for the start timeout;
its pod is gone afterwards."""

from __future__ import annotations

import json
import time

from harness import RUN_PREFIX

from stellars_hub import naming


def test_a_lab_no_node_can_hold_is_refused_at_once_with_the_reason(kube_hub, k8s_cluster):
    hub = kube_hub
    admin = hub.admin_session()
    group = f"{RUN_PREFIX}khuge"
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    # 4 TiB of memory: the request (half the limit) is far beyond the test node
    r = hub.api(admin, "PUT", f"groups/{group}/policy", json={"memory_mb": 4194304})
    assert r.status_code == 200, r.text
    name, session = hub.new_user("kbig")
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [name]}).status_code == 200

    r = hub.api(session, "POST", f"users/{name}/server")
    if r.status_code == 503:  # failed before the API answered
        message = r.json()["message"]
    else:
        assert r.status_code == 202, r.text
        progress = hub.api(session, "GET", f"users/{name}/server/progress", stream=True, timeout=300)
        events = [json.loads(line[len(b"data:") :]) for line in progress.iter_lines() if line.startswith(b"data:")]
        assert events[-1].get("failed"), events[-1]
        message = events[-1]["message"]
    assert "no node of the cluster can ever hold this lab" in message, message
    assert "2048.0 GiB of memory (the most a node can give: " in message, message
    assert "PersistentVolumeClaims" not in message, message  # the scheduler's words on claims still binding
    deadline = time.monotonic() + 120
    while k8s_cluster.get("pod", naming.container_name(name)) is not None:
        assert time.monotonic() < deadline, "the unplaceable pod was left behind"
        time.sleep(2)
    assert hub.api(session, "GET", f"users/{name}").json()["servers"].get("") is None
