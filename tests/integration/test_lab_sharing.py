"""Share my lab on a real hub with real labs, through JupyterHub's own sharing routes: a share
opens the lab for its recipient and never for an administrator's share; the owner's lab is told
who joined; revoking (by the owner, by the recipient, by leaving the group) ends access within
the lab's auth recheck; an invitation link; a named server; shares end with a rename or delete
of either side. Every step is one audit line."""

from __future__ import annotations

import time
from urllib.parse import urljoin

import requests
from harness import audit, engine, unique_name, wait_for
from labvisit import open_lab, opened

from stellars_hub import naming

RECHECK = 5
HUB_ENV = {"JUPYTERHUB_LAB_AUTH_RECHECK_SECONDS": str(RECHECK), "JUPYTERHUB_NAMED_SERVERS": "1"}


def contents(hub, session, owner, server="") -> int:
    return session.get(hub.base + f"user/{owner}/{server + '/' if server else ''}api/contents", timeout=60).status_code


def lines(hub, action, **match) -> list[dict]:
    return [e for e in audit(hub) if e["action"] == action and all(e.get(k) == v for k, v in match.items())]


def lab_queue(owner: str, token: str) -> list[dict]:
    """The notifications waiting in the owner's lab (read at the lab's own address, untracked)."""
    env = dict(e.split("=", 1) for e in engine().api.inspect_container(naming.container_name(owner))["Config"]["Env"])
    url = env["JUPYTERHUB_SERVICE_URL"].rstrip("/") + "/jupyterlab-notifications-extension/notifications"
    r = requests.get(url, params={"no_track_activity": "1"}, headers={"Authorization": f"token {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["notifications"]


def fresh(hub, name):
    """A new browser session of ``name`` (no lab cookie from an earlier attempt)."""
    return hub.login(name)


def test_share_opens_for_the_recipient_never_for_an_admin_and_revoking_ends_it(hub):
    admin = hub.admin_session()
    bob, bob_s = hub.new_user("own")
    ann, ann_s = hub.new_user("rcp")
    hub.start_server(bob_s, bob)
    bob_token = hub.token_for(bob)
    assert open_lab(hub, ann_s, bob).status_code == 403  # not shared yet

    # an administrator may manage JupyterHub's shares of anyone's server, but not make one that opens a lab
    r = hub.api(admin, "POST", f"shares/{bob}/", json={"user": hub.admin})
    assert r.status_code == 403 and "only the owner" in r.json()["message"], r.text
    assert hub.api(admin, "POST", f"share-codes/{bob}/", json={}).status_code == 403
    r = hub.api(admin, "POST", f"shares/{bob}/", json={"user": hub.admin, "scopes": [f"access:servers!server={bob}/"]})
    assert r.status_code == 403, r.text  # explicit access scopes are about entering: the same rule
    r = hub.api(admin, "POST", f"shares/{bob}/", json={"user": hub.admin, "scopes": [f"read:servers!server={bob}/"]})
    assert r.status_code == 200, r.text  # JupyterHub's own share of something else: its business
    assert not opened(open_lab(hub, fresh(hub, hub.admin), bob), bob)
    assert lines(hub, "lab-share", outcome="refused", actor=hub.admin, target=bob)

    # bad requests name the field; nothing is shared
    for body, field in (
        ({}, "body"),
        ({"user": "x", "group": "y"}, "body"),
        ({"user": unique_name("ghost")}, "user"),
        ({"group": unique_name("nogrp")}, "group"),
        ({"user": bob}, "user"),
        ({"user": ann, "scopes": [f"access:servers!server={bob}/", f"servers!server={bob}/"]}, "scopes"),
        ({"user": ann, "x": 1}, "x"),
    ):
        r = hub.api(bob_s, "POST", f"shares/{bob}/", json=body)
        assert r.status_code == 400 and field in r.json()["message"], (body, r.text)
    shares = hub.api(bob_s, "GET", f"users/{bob}/sharing").json()["servers"][0]["shares"]
    assert [(s["kind"], s["name"], s["opens"]) for s in shares] == [("user", hub.admin, False)]

    # bob shares: the record is JupyterHub's, with the enter scope beside JupyterHub's access scope
    r = hub.api(bob_s, "POST", f"shares/{bob}/", json={"user": ann})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["scopes"]) == [f"access:servers!server={bob}/", f"custom:labaccess:enter!server={bob}/"]
    assert [s["server"]["user"]["name"] for s in hub.api(ann_s, "GET", f"users/{ann}/shared").json()["items"]] == [bob]
    mine = hub.api(ann_s, "GET", f"users/{ann}/sharing").json()["shared_with_me"]
    assert [(m["owner"], m["server"], m["ready"], m["via"]) for m in mine] == [(bob, "", True, "user")]

    inside = fresh(hub, ann)  # ann's tab, left open in bob's lab
    assert opened(open_lab(hub, inside, bob), bob)
    assert contents(hub, inside, bob) == 200
    assert lines(hub, "lab-share", outcome="granted", actor=bob, target=bob, user=ann)

    # the hub sees her join: one audit line, bob's lab is told, the home page says she is in
    assert wait_for(lambda: lines(hub, "lab-share-join", actor=ann, target=bob), 30)
    assert wait_for(lambda: [n for n in lab_queue(bob, bob_token) if f"{ann} has joined your lab" in n["message"]], 30)
    share = next(
        s for s in hub.api(bob_s, "GET", f"users/{bob}/sharing").json()["servers"][0]["shares"] if s["name"] == ann
    )
    assert [v["user"] for v in share["in_lab"]] == [ann]
    assert len(lines(hub, "lab-share-join", actor=ann, target=bob)) == 1  # once, however often she looks

    # bob revokes: her open tab loses the lab once the lab asks the hub again
    r = hub.api(bob_s, "PATCH", f"shares/{bob}/", json={"user": ann})
    assert r.status_code == 200, r.text
    assert lines(hub, "lab-share-revoke", outcome="ok", actor=bob, user=ann)
    revoked = time.monotonic()
    assert wait_for(lambda: contents(hub, inside, bob) == 403, 4 * RECHECK + 30, step=1)
    assert time.monotonic() - revoked <= 4 * RECHECK + 30
    assert lines(hub, "lab-share-revoke", outcome="ended", user=ann, target=bob)
    assert not opened(open_lab(hub, fresh(hub, ann), bob), bob)
    assert hub.api(ann_s, "GET", f"users/{ann}/sharing").json()["shared_with_me"] == []
    assert opened(open_lab(hub, bob_s, bob), bob)  # the owner, as always


def test_invitation_link_group_share_and_giving_a_share_back(hub):
    admin = hub.admin_session()
    bob, bob_s = hub.new_user("lnk")
    carol, carol_s = hub.new_user("cod")
    dave, dave_s = hub.new_user("grp")
    hub.start_server(bob_s, bob)

    # an invitation link: whoever accepts it while it is valid gets the lab
    r = hub.api(bob_s, "POST", f"share-codes/{bob}/", json={"expires_in": 3600})
    assert r.status_code == 200, r.text
    link = r.json()
    assert link["code"] and link["code"] not in (hub.data_dir / "audit.log").read_text()
    accept = carol_s.get(urljoin(hub.base, link["accept_url"]), timeout=60)
    assert accept.status_code == 200 and "Accept" in accept.text
    r = carol_s.post(
        accept.url,
        data={"code": link["code"], "_xsrf": carol_s.cookies.get("_xsrf", path=hub._cookie_path())},
        timeout=120,
        allow_redirects=False,
    )
    assert r.status_code == 302, r.text
    assert lines(hub, "lab-share", outcome="accepted", actor=carol, target=bob, link=link["id"])
    assert opened(open_lab(hub, fresh(hub, carol), bob), bob)
    # a hub restart (JupyterHub deletes the roles it was not configured with): the lab, left
    # running, still opens for her once the hub has read the share records again
    hub.stop()
    hub.start()
    assert wait_for(lambda: opened(open_lab(hub, fresh(hub, carol), bob), bob), 60, step=2)
    carol_s = hub.login(carol)
    # the recipient gives it back (JupyterHub's own route for that)
    r = hub.api(carol_s, "DELETE", f"users/{carol}/shared/{bob}/")
    assert r.status_code == 204, r.text
    assert lines(hub, "lab-share-revoke", outcome="ok", actor=carol, user=carol)
    r = hub.api(bob_s, "DELETE", f"share-codes/{bob}/", params={"id": link["id"]})
    assert r.status_code == 204, r.text
    assert lines(hub, "lab-share", outcome="link-deleted", link=link["id"])

    # a group: its members get in; leaving the group ends it within the recheck
    team = unique_name("team")
    assert hub.api(admin, "POST", f"groups/{team}").status_code == 201
    assert hub.api(admin, "POST", f"groups/{team}/users", json={"users": [dave]}).status_code == 200
    assert hub.api(bob_s, "POST", f"shares/{bob}/", json={"group": team}).status_code == 200
    inside = fresh(hub, dave)
    assert opened(open_lab(hub, inside, bob), bob)
    assert wait_for(lambda: lines(hub, "lab-share-join", actor=dave, target=bob, via=f"group {team}"), 30)
    assert hub.api(admin, "DELETE", f"groups/{team}/users", json={"users": [dave]}).status_code == 200
    assert wait_for(lambda: contents(hub, inside, bob) == 403, 4 * RECHECK + 30, step=1)
    assert wait_for(lambda: lines(hub, "lab-share-revoke", outcome="ended", user=dave, target=bob), 30)


def test_named_server_share_and_shares_end_with_rename_and_delete(hub):
    admin = hub.admin_session()
    bob, bob_s = hub.new_user("nam")
    eve, eve_s = hub.new_user("ren")
    r = hub.api(bob_s, "POST", f"users/{bob}/servers/gpu")
    assert r.status_code in (201, 202), r.text
    assert wait_for(lambda: hub.api(bob_s, "GET", f"users/{bob}").json()["servers"].get("gpu", {}).get("ready"), 120)
    assert hub.api(bob_s, "POST", f"shares/{bob}/gpu", json={"user": eve}).status_code == 200
    assert opened(open_lab(hub, fresh(hub, eve), bob, "gpu"), bob)

    # eve renamed: the share ends (a later user of her old name gets nothing)
    new = unique_name("ren2")
    r = hub.api(admin, "PATCH", f"users/{eve}", json={"name": new})
    assert r.status_code == 200, r.text
    assert hub.api(bob_s, "GET", f"shares/{bob}/gpu").json()["items"] == []
    assert lines(hub, "lab-share-revoke", outcome="ended", user=new, target=bob, server="gpu")
    assert not opened(open_lab(hub, hub.login(new), bob, "gpu"), bob)

    # bob shares again, then bob is deleted: his shares and links end with him, audited
    assert hub.api(bob_s, "POST", f"shares/{bob}/gpu", json={"user": new}).status_code == 200
    assert hub.api(bob_s, "POST", f"share-codes/{bob}/gpu", json={}).status_code == 200
    assert hub.api(bob_s, "DELETE", f"users/{bob}/servers/gpu").status_code in (202, 204)
    assert wait_for(lambda: "gpu" not in hub.api(admin, "GET", f"users/{bob}").json()["servers"], 120)
    r = hub.api(admin, "DELETE", f"users/{bob}")
    assert r.status_code == 204, r.text
    assert lines(hub, "lab-share-revoke", outcome="ended", user=new, target=bob, reason=f"{bob} was deleted")
    assert lines(hub, "lab-share", outcome="link-deleted", target=bob, reason=f"{bob} was deleted")
    assert hub.api(hub.login(new), "GET", f"users/{new}/sharing").json()["shared_with_me"] == []
