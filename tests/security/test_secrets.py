"""Secrets stay secret: the values of a user's own variables and of a group's variables are
returned only to callers who may set them, and written nowhere (audit log, events API, hub
log); names are. An admin resetting another user's password is an audit line, without the
password."""

from __future__ import annotations

import json

from harness import RUN_PREFIX

READER = f"{RUN_PREFIX}polreader"
SITE = f"""
c.JupyterHub.load_roles = [{{"name": "policy-reader", "scopes": ["custom:policies:read"], "users": [{READER!r}]}}]
"""
OWN, GROUP_OLD, GROUP_NEW = "own-value-3141", "group-value-2718", "group-value-1618"
PASSWORD = "Reset-by-admin-pw-577"


def everything_written(hub) -> str:
    events = hub.api(hub.admin_session(), "GET", "events?limit=500").json()
    return "\n".join([(hub.data_dir / "audit.log").read_text(), hub.log_text(), json.dumps(events)])


def test_variable_values_reach_only_who_may_set_them_and_no_log(make_hub):
    hub = make_hub(extra_config=SITE)
    admin = hub.admin_session()
    ann, ann_session = hub.new_user("sc")
    group = f"{RUN_PREFIX}sec"
    assert hub.api(admin, "POST", f"groups/{group}", json={"users": [ann]}).status_code == 201
    for value in (GROUP_OLD, GROUP_NEW):  # a change: the audit has a before and an after
        r = hub.api(admin, "PUT", f"groups/{group}/policy", json={"env": {"GROUP_KEY": value}})
        assert r.status_code == 200, r.text
    r = hub.api(ann_session, "PUT", f"users/{ann}/environment", json={"environment": {"OWN_KEY": OWN}})
    assert r.status_code == 200, r.text

    # the user and user admins see the values
    lab = hub.api(ann_session, "GET", f"users/{ann}/lab").json()["lab"]
    assert lab["user_env"] == {"OWN_KEY": OWN} and lab["env"] == {"GROUP_KEY": GROUP_NEW}
    assert hub.api(admin, "GET", f"users/{ann}/lab").json()["lab"]["user_env"] == {"OWN_KEY": OWN}
    # read:servers (a monitoring token, the idle culler) reads the lab, not the values
    reader = hub.token_for(ann, [f"read:servers!user={ann}"])
    assert hub.api(None, "GET", f"users/{ann}/environment", token=reader).status_code == 403
    r = hub.api(None, "GET", f"users/{ann}/lab", token=reader)
    assert r.status_code == 200
    assert r.json()["lab"]["user_env"] == {"OWN_KEY": None} and r.json()["lab"]["env"] == {"GROUP_KEY": None}
    # group variables: values for who may change policies, names for who may only read them
    token = hub.token_for(READER, ["custom:policies:read"])
    for path in ("policies", f"groups/{group}/policy"):
        body = hub.api(None, "GET", path, token=token).json()
        text = json.dumps(body)
        assert GROUP_NEW not in text and "GROUP_KEY" in text, path
    assert GROUP_NEW in json.dumps(hub.api(admin, "GET", f"groups/{group}/policy").json())

    # an admin resets ann's password: audited, the password nowhere
    xsrf = admin.cookies.get("_xsrf", path=hub._cookie_path())
    r = admin.post(
        hub.hub_url + f"change-password/{ann}",
        data={"new_password": PASSWORD, "new_password_confirmation": PASSWORD, "_xsrf": xsrf},
    )
    assert r.status_code == 200 and "changed successfully" in r.text
    assert hub.login_status(ann, PASSWORD) == 302
    events = hub.api(admin, "GET", f"events?user={ann}&action=reset-password").json()["events"]
    assert [(e["actor"], e["outcome"]) for e in events] == [(hub.admin, "ok")]

    written = everything_written(hub)
    assert "GROUP_KEY" in written and "OWN_KEY" in written  # names are written ...
    for secret in (OWN, GROUP_OLD, GROUP_NEW, PASSWORD):  # ... values never
        assert secret not in written, f"{secret} was written to the audit log, the events API or the hub log"
