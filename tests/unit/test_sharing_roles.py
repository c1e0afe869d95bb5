"""The role that makes a share open a lab follows JupyterHub's share records exactly (a hub
database in memory, JupyterHub's own ORM and RBAC functions)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from jupyterhub import orm, scopes

from stellars_hub.sharing import records, roles

ENTER = "custom:labaccess:enter"


@pytest.fixture
def db():
    if ENTER not in scopes.scope_definitions:  # what the access feature registers in a hub
        scopes.define_custom_scopes({ENTER: {"description": "Open the lab"}})
    session = orm.new_session_factory("sqlite:///:memory:")()
    yield session
    session.close()


def user(db, name):
    u = orm.User(name=name)
    db.add(u)
    db.commit()
    return u


def lab(db, owner, server=""):
    s = orm.Spawner(user=owner, name=server)
    db.add(s)
    db.commit()
    return s


def share(db, spawner, who, opens=True):
    scopes_ = (
        records.lab_share_scopes(spawner.user.name, spawner.name)
        if opens
        else [f"read:servers!server={spawner.user.name}/{spawner.name}"]
    )
    return orm.Share.grant(db, spawner, who, scopes=scopes_)


def holders(db, spawner):
    role = orm.Role.find(db, roles.role_name(spawner.user.name, spawner.name))
    if role is None:
        return None
    return sorted(u.name for u in role.users), sorted(g.name for g in role.groups), role.scopes


def test_the_role_holds_exactly_the_shares_that_open_the_lab(db):
    bob, ann, eve = user(db, "bob"), user(db, "ann"), user(db, "eve")
    team = orm.Group(name="team")
    db.add(team)
    db.commit()
    spawner = lab(db, bob)
    assert holders(db, spawner) is None
    share(db, spawner, ann)
    share(db, spawner, team)
    share(db, spawner, eve, opens=False)  # JupyterHub's share of something else: no way in
    roles.sync(db, spawner)
    assert holders(db, spawner) == (["ann"], ["team"], ["custom:labaccess:enter!server=bob/"])
    orm.Share.revoke(db, spawner, ann)
    roles.sync(db, spawner)
    assert holders(db, spawner) == ([], ["team"], ["custom:labaccess:enter!server=bob/"])
    orm.Share.revoke(db, spawner, team)
    roles.sync(db, spawner)
    assert holders(db, spawner) is None  # nobody: the role goes


def test_an_expired_share_opens_nothing_and_named_servers_have_their_own_role(db):
    bob, ann = user(db, "bob"), user(db, "ann")
    default, gpu = lab(db, bob), lab(db, bob, "gpu")
    s = share(db, gpu, ann)
    roles.sync(db, gpu)
    roles.sync(db, default)
    assert roles.role_name("bob", "gpu") == "labshare-bob--gpu"
    assert holders(db, gpu)[0] == ["ann"] and holders(db, default) is None
    s.expires_at = datetime.utcnow() - timedelta(seconds=1)
    db.commit()
    roles.sync_all(db)
    assert holders(db, gpu) is None


def test_a_role_left_behind_by_a_deleted_lab_or_user_goes_and_never_opens_a_namesakes_lab(db):
    bob, ann = user(db, "bob"), user(db, "ann")
    gpu = lab(db, bob, "gpu")
    share(db, gpu, ann)
    roles.sync(db, gpu)
    db.delete(gpu)  # the named server removed (its shares go with it in JupyterHub's database)
    db.commit()
    roles.sync_all(db)
    assert orm.Role.find(db, roles.role_name("bob", "gpu")) is None
    gpu2 = lab(db, bob, "gpu")  # made again under the old name: nobody is let in
    roles.sync(db, gpu2)
    assert holders(db, gpu2) is None
    default = lab(db, bob)
    share(db, default, ann)
    roles.sync(db, default)
    roles.drop_for_owner(db, "bob")
    assert orm.Role.find(db, roles.role_name("bob", "")) is None


def test_escaped_names_make_distinct_role_names():
    names = {roles.role_name(o, s) for o, s in [("a", "b"), ("a--b", ""), ("a-b", ""), ("A", ""), ("a", "")]}
    assert len(names) == 5
    assert all(n.startswith("labshare-") and n[-1].isalnum() for n in names)


def test_what_counts_as_a_share_that_opens_the_lab():
    assert records.opens_lab(None) and records.opens_lab([])
    assert records.opens_lab(["access:servers!server=bob/"]) and records.opens_lab([f"{ENTER}!server=bob/"])
    assert not records.opens_lab(["read:servers!server=bob/"])
    assert records.carries_enter(records.lab_share_scopes("bob", "gpu"))
    assert not records.carries_enter(["access:servers!server=bob/gpu"])
