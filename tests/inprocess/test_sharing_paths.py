"""Every path that changes JupyterHub's share records keeps a lab's way in (its ``labshare-``
role) in step, before the answer leaves: sharing, revoking one, revoking all, a recipient giving
a share back, a group's share ended, an invitation accepted, a group deleted. And the rules
around it: an administrator's share never opens a lab, a person may make 30 shares a minute."""

from __future__ import annotations

import pytest
from harness import unique_name


def holders(hub, owner, server=""):
    """(users, groups) holding the lab's role, or None when it has none."""

    async def read():
        from jupyterhub import orm

        from stellars_hub.sharing.roles import role_name

        role = orm.Role.find(hub.app.db, role_name(owner, server))
        return None if role is None else (sorted(u.name for u in role.users), sorted(g.name for g in role.groups))

    return hub.call(read)


@pytest.fixture(scope="module")
def people(hub):
    admin = hub.admin_session()
    owner, owner_s = hub.new_user("own")
    hub.start_server(owner_s, owner)
    ann, ann_s = hub.new_user("ann")
    team = unique_name("team")
    assert hub.api(admin, "POST", f"groups/{team}").status_code == 201
    return {"admin": admin, "owner": owner, "owner_s": owner_s, "ann": ann, "ann_s": ann_s, "team": team}


def share(hub, p, **who):
    r = hub.api(p["owner_s"], "POST", f"shares/{p['owner']}/", json=who)
    assert r.status_code == 200, r.text
    return r.json()


def test_sharing_and_each_way_of_revoking_keep_the_role_in_step(hub, people):
    p = people
    owner, ann, team = p["owner"], p["ann"], p["team"]
    body = share(hub, p, user=ann)
    assert f"custom:labaccess:enter!server={owner}/" in body["scopes"]
    assert holders(hub, owner) == ([ann], [])
    share(hub, p, group=team)
    assert holders(hub, owner) == ([ann], [team])

    # the owner revokes one (PATCH)
    assert hub.api(p["owner_s"], "PATCH", f"shares/{owner}/", json={"user": ann}).status_code == 200
    assert holders(hub, owner) == ([], [team])
    # an admin ends a group's share through JupyterHub's group route
    assert hub.api(p["admin"], "DELETE", f"groups/{team}/shared/{owner}/").status_code == 204
    assert holders(hub, owner) is None
    # the recipient gives it back
    share(hub, p, user=ann)
    assert hub.api(p["ann_s"], "DELETE", f"users/{ann}/shared/{owner}/").status_code == 204
    assert holders(hub, owner) is None
    # the owner revokes all (DELETE)
    share(hub, p, user=ann)
    share(hub, p, group=team)
    assert hub.api(p["owner_s"], "DELETE", f"shares/{owner}/").status_code == 204
    assert holders(hub, owner) is None


def test_an_accepted_invitation_and_a_deleted_group(hub, people):
    p = people
    owner = p["owner"]
    carol, carol_s = hub.new_user("car")
    r = hub.api(p["owner_s"], "POST", f"share-codes/{owner}/", json={"expires_in": 600})
    assert r.status_code == 200, r.text
    code = r.json()["code"]
    r = carol_s.post(
        hub.hub_url + "accept-share",
        data={"code": code, "_xsrf": carol_s.cookies.get("_xsrf", path=hub._cookie_path())},
        allow_redirects=False,
    )
    assert r.status_code == 302, r.text
    assert holders(hub, owner) == ([carol], [])
    assert hub.api(p["owner_s"], "PATCH", f"shares/{owner}/", json={"user": carol}).status_code == 200

    doomed = unique_name("gone")
    assert hub.api(p["admin"], "POST", f"groups/{doomed}").status_code == 201
    share(hub, p, group=doomed)
    assert holders(hub, owner) == ([], [doomed])
    assert hub.api(p["admin"], "DELETE", f"groups/{doomed}").status_code == 204
    assert holders(hub, owner) in (None, ([], []))  # the group's hold went with it


def test_an_administrators_share_never_opens_a_lab(hub, people):
    p = people
    owner = p["owner"]
    for body in (
        {"user": hub.admin},
        {"user": hub.admin, "scopes": [f"access:servers!server={owner}/"]},
        {"user": hub.admin, "scopes": [f"custom:labaccess:enter!server={owner}/"]},
    ):
        r = hub.api(p["admin"], "POST", f"shares/{owner}/", json=body)
        assert r.status_code == 403 and "only the owner" in r.json()["message"], (body, r.text)
    assert hub.api(p["admin"], "POST", f"share-codes/{owner}/", json={}).status_code == 403
    # JupyterHub's own share of another scope: made, and no way in
    r = hub.api(
        p["admin"], "POST", f"shares/{owner}/", json={"user": hub.admin, "scopes": [f"read:servers!server={owner}/"]}
    )
    assert r.status_code == 200, r.text
    assert holders(hub, owner) in (None, ([], []))  # nobody holds a way in
    assert hub.api(p["admin"], "PATCH", f"shares/{owner}/", json={"user": hub.admin}).status_code == 200


def test_a_person_makes_at_most_30_shares_a_minute(hub):
    name, session = hub.new_user("many")
    codes = [hub.api(session, "POST", f"shares/{name}/noserver", json={"user": "x"}).status_code for _ in range(31)]
    assert codes[:30] == [404] * 30 and codes[30] == 429, codes


def test_users_share_their_labs_and_nothing_else(hub, people):
    p = people
    owner = p["owner"]
    other_scopes = {"scopes": [f"servers!server={owner}/"]}  # start and stop the owner's server
    codes = hub.api(p["owner_s"], "GET", f"share-codes/{owner}/").json()["items"]
    for route, body in (("shares", {"user": p["ann"], **other_scopes}), ("share-codes", other_scopes)):
        r = hub.api(p["owner_s"], "POST", f"{route}/{owner}/", json=body)
        assert r.status_code == 403 and "only to open it" in r.json()["message"], r.text
    assert hub.api(p["owner_s"], "GET", f"share-codes/{owner}/").json()["items"] == codes  # none made
