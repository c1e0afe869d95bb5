"""Privileges come only through the policy API. JupyterHub lets a group-filtered scope
(``groups!group=team``, a team lead's) write the group's properties; a policy written there must
have no effect, and the refusal is visible (Policies API, log, audit). Policies of the version that
kept them in group properties are taken over once at upgrade (audited, values never in the
audit); a deleted group's policy does not come back with a new group of that name."""

from __future__ import annotations

import json

from harness import RUN_PREFIX, engine

from stellars_hub import naming

TEAM = f"{RUN_PREFIX}team"
LEGACY = f"{RUN_PREFIX}legacy"
LEAD = f"{RUN_PREFIX}lead"
SECRET = "legacy-secret-value-7"
HUB_ENV: dict = {}
# a team lead who manages one group, as JupyterHub's RBAC allows; and a group whose policy an
# earlier version stored in the group's properties
SITE = f"""
c.JupyterHub.load_groups = {{
    {TEAM!r}: {{"users": []}},
    {LEGACY!r}: {{"users": [], "properties": {{"stellars_policy": {{"memory_mb": 1024, "env": {{"TOKEN": {SECRET!r}}}}}}}}},
}}
c.JupyterHub.load_roles = [{{"name": "team-lead", "scopes": ["groups!group={TEAM}", "read:groups!group={TEAM}"],
                            "users": [{LEAD!r}]}}]
"""


def _audit(hub) -> list[dict]:
    path = hub.data_dir / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _policy_row(hub, group) -> dict:
    groups = hub.api(hub.admin_session(), "GET", "policies").json()["groups"]
    return next(g for g in groups if g["name"] == group)


def test_policy_keys_in_group_properties_grant_nothing(make_hub):
    hub = make_hub(extra_config=SITE)
    admin = hub.admin_session()

    # upgrade: the policy stored in the legacy group's properties was taken over, once, audited
    # with the variable's name only
    assert _policy_row(hub, LEGACY)["policy"] == {"memory_mb": 1024, "env": {"TOKEN": SECRET}}
    imported = [e for e in _audit(hub) if e["action"] == "policy-import" and e["target"] == f"group:{LEGACY}"]
    assert len(imported) == 1 and imported[0]["outcome"] == "ok"
    assert SECRET not in (hub.data_dir / "audit.log").read_text()

    bob, bob_session = hub.new_user("ps")
    lead_token = hub.token_for(LEAD, [f"groups!group={TEAM}"])
    r = hub.api(None, "POST", f"groups/{TEAM}/users", token=lead_token, json={"users": [bob]})
    assert r.status_code == 200, r.text
    # the lead writes a policy where the platform used to keep it: JupyterHub accepts the write
    r = hub.api(
        None,
        "PUT",
        f"groups/{TEAM}/properties",
        token=lead_token,
        json={"stellars_policy": {"docker_sock": True, "privileged": True}, "privileged": True},
    )
    assert r.status_code == 200, r.text
    # the policy API is the lead's no way in
    assert hub.api(None, "PUT", f"groups/{TEAM}/policy", token=lead_token, json={"privileged": True}).status_code == 403

    hub.start_server(bob_session, bob)
    info = engine().api.inspect_container(naming.container_name(bob))
    assert not info["HostConfig"]["Privileged"]
    mounts = [m.get("Source") for m in info["Mounts"]] + list(info["HostConfig"]["Binds"] or [])
    assert not any("docker.sock" in (m or "") for m in mounts), mounts
    assert hub.api(bob_session, "GET", f"users/{bob}/lab").json()["lab"]["privileged"] is False

    # the refusal is visible: the Policies API, the hub's log and the audit say so
    row = _policy_row(hub, TEAM)
    assert row["policy"] == {} and row["ignored_properties"] == ["privileged", "stellars_policy"]
    assert "ignored" in hub.log_text() and TEAM in hub.log_text()
    assert any(e["action"] == "policy-ignored" and e["target"] == f"group:{TEAM}" for e in _audit(hub))

    # a deleted group's policy does not come back with a new group of the same name
    assert hub.api(admin, "PUT", f"groups/{TEAM}/policy", json={"pids": 300}).status_code == 200
    assert hub.api(admin, "DELETE", f"groups/{TEAM}").status_code == 204
    assert hub.api(admin, "POST", f"groups/{TEAM}").status_code == 201
    assert hub.api(admin, "GET", f"groups/{TEAM}/policy").json()["policy"] == {}
