"""Soft storage quota from a group policy, on the real engine: use of the user's own volumes is
measured against it, admins see who is over, the user's running lab is warned once (not again
within a day), and no file is touched."""

from __future__ import annotations

import time

from harness import RUN_PREFIX, engine

from stellars_hub import naming

HUB_ENV = {"JUPYTERHUB_QUOTA_CHECK_INTERVAL": "10"}
QUEUE = "jupyterlab-notifications-extension/notifications"


def test_over_quota_is_shown_and_warned_once_and_nothing_is_deleted(hub):
    admin = hub.admin_session()
    group = f"{RUN_PREFIX}quota"
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    assert hub.api(admin, "PUT", f"groups/{group}/policy", json={"quota_gb": 0.002}).status_code == 200  # 2 MB
    name, session = hub.new_user("quo")
    within, within_s = hub.new_user("qok")
    for user in (name, within):
        assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [user]}).status_code == 200
    hub.start_server(session, name)
    token = hub.token_for(name)
    lab = engine().containers.get(naming.container_name(name))
    assert lab.exec_run(["sh", "-c", "head -c 5000000 /dev/urandom > /home/lab/workspace/big.bin"]).exit_code == 0

    deadline = time.monotonic() + 180
    warnings = []
    while time.monotonic() < deadline and not warnings:
        r = hub.lab(name, "GET", QUEUE, token=token)
        assert r.status_code == 200, r.text
        warnings += [n for n in r.json()["notifications"] if "over quota" in n["message"]]
        time.sleep(3)
    assert warnings, "no quota warning reached the lab"
    assert warnings[0]["type"] == "warning"

    st = hub.api(session, "GET", f"users/{name}/storage").json()
    assert st["over"] is True and st["quota_bytes"] == 2_000_000 and st["used_bytes"] >= 5_000_000
    assert st["from_groups"] == [group]
    ok = hub.api(within_s, "GET", f"users/{within}/storage").json()
    assert ok["over"] is False and ok["quota_bytes"] == 2_000_000
    # Manage Volumes reads sizes from the hub's background cache: the first look starts a measurement
    deadline = time.monotonic() + 60
    while True:
        manage = hub.api(session, "GET", f"users/{name}/manage-volumes").json()["storage"]
        if manage["over"] or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert manage["over"] is True and manage["quota_bytes"] == 2_000_000
    over = hub.api(admin, "GET", "storage?over=1").json()["users"]
    assert [u["username"] for u in over if u["username"].startswith(RUN_PREFIX)] == [name]
    assert hub.api(within_s, "GET", "storage").status_code == 403
    assert hub.api(within_s, "GET", f"users/{name}/storage").status_code == 403

    # more check passes: no second warning within the day; the file is still there
    time.sleep(25)
    again = [n for n in hub.lab(name, "GET", QUEUE, token=token).json()["notifications"] if "over quota" in n["message"]]
    assert again == []
    assert lab.exec_run(["test", "-s", "/home/lab/workspace/big.bin"]).exit_code == 0
    hub.stop_server(session, name)
