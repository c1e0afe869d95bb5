"""A hub's state that an operator cannot lose, for the drills that take it away and bring it
back (tests/integration/test_disaster_recovery.py, test_upgrade.py): two users with their own
passwords in a group with a policy, one user's own variables, a running lab with her consent,
a broadcast in the history; and the check that a hub serving the same data directory still has
all of it (passwords and an old browser session, policy, members, variables, consent, history)."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from harness import RUN_PREFIX, Hub, unique_name

ANN_PW, BOB_PW = "Ann-drill-pw-7391", "Bob-drill-pw-2846"


@dataclass
class Drill:
    ann: str
    bob: str
    ann_session: requests.Session
    group: str
    policy: dict
    variables: dict
    message: str


def fill(hub: Hub, label: str, policy: dict, variables: dict) -> Drill:
    """The state, made through ``hub``'s API (the previous release's too), and ann's lab started."""
    admin = hub.admin_session()
    ann, bob = unique_name("ann"), unique_name("bob")
    for name, pw in ((ann, ANN_PW), (bob, BOB_PW)):
        hub.signup(name, pw)
        hub.authorize(name)
    ann_session = hub.login(ann, ANN_PW)
    hub.login(bob, BOB_PW)  # JupyterHub knows a user from their first login on
    group = f"{RUN_PREFIX}{label}team"
    for method, path, body in (
        ("POST", f"groups/{group}", None),
        ("POST", f"groups/{group}/users", {"users": [ann, bob]}),
        ("PUT", f"groups/{group}/policy", policy),
    ):
        r = hub.api(admin, method, path, json=body)
        assert r.status_code in (200, 201), r.text
    r = hub.api(ann_session, "PUT", f"users/{ann}/environment", json={"environment": variables})
    assert r.status_code == 200, r.text
    hub.start_server(ann_session, ann)
    r = hub.api(ann_session, "PUT", f"users/{ann}/lab-access/consent", json={"hours": 4})
    assert r.status_code == 200, r.text
    message = f"{label} drill {RUN_PREFIX}"
    assert hub.api(admin, "POST", "notifications/broadcast", json={"message": message}).status_code == 200
    return Drill(ann, bob, ann_session, group, policy, variables, message)


def assert_kept(hub: Hub, drill: Drill) -> None:
    """``hub`` (on the drill's data directory, after whatever happened to it) has all of it."""
    ann, bob, ann_session = drill.ann, drill.bob, drill.ann_session
    assert hub.login_status(ann, ANN_PW) == 302 and hub.login_status(bob, BOB_PW) == 302
    assert hub.login_status(ann, BOB_PW) == 200
    assert hub.api(ann_session, "GET", f"users/{ann}").status_code == 200  # an old session (the cookie secret)
    admin = hub.admin_session()
    assert hub.api(admin, "GET", f"groups/{drill.group}/policy").json()["policy"] == drill.policy
    assert sorted(hub.api(admin, "GET", f"groups/{drill.group}").json()["users"]) == sorted([ann, bob])
    assert hub.api(ann_session, "GET", f"users/{ann}/environment").json()["environment"] == drill.variables
    assert hub.api(ann_session, "GET", f"users/{ann}/lab-access").json()["consent"] is True
    history = hub.api(admin, "GET", "notifications/history").json()["broadcasts"]
    assert any(b["message"] == drill.message for b in history), history
