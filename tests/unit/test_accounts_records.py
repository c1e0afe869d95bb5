"""Rename and delete steps on the hub's database: login records and volume ownership follow the
user (the REST API and admin-panel paths are in tests/integration/test_accounts_lifecycle.py)."""

import pytest
from jupyterhub import orm
from jupyterhub.user import User
from nativeauthenticator.orm import UserInfo

from stellars_hub import naming
from stellars_hub.accounts import lifecycle, passwords, volumemap


@pytest.fixture
def db():
    session = orm.new_session_factory("sqlite:///:memory:")()
    yield session
    session.close()


@pytest.fixture
def names(db):
    """The hub's volume names, following the records as the accounts feature has them do."""
    return naming.VolumeNames(lambda name: volumemap.base_for(db, name))


def add_user(db, name, password="pw-for-tests"):
    user = orm.User(name=name)
    db.add(user)
    db.add(UserInfo(username=name, password=passwords.hash_password(password), is_authorized=True))
    db.commit()
    volumemap.user_created(db, name)  # what Authenticator.add_user does for a new user
    db.commit()
    return user


def rename(db, user, new):
    old = user.name
    assert lifecycle.rename_problem(db, User(user, {"db": db}), new) is None
    lifecycle.move_records(db, old, new)
    user.name = new
    db.commit()


def info(db, name):
    return db.query(UserInfo).filter_by(username=name).one_or_none()


def test_rename_keeps_login_and_volumes_and_newcomer_gets_fresh_ones(db, names):
    ann = add_user(db, "ann", "anns-password")
    assert names.user_volume_names("ann")["home"] == "jupyterlab-ann_home"

    rename(db, ann, "anna")
    assert info(db, "ann") is None and info(db, "anna").is_valid_password("anns-password")
    assert names.user_volume_names("anna")["home"] == "jupyterlab-ann_home"  # her files, same volumes

    add_user(db, "ann")
    assert names.user_volume_names("ann")["home"] == "jupyterlab-ann-x2_home"  # empty, not anna's

    rename(db, ann, "ann2")  # renamed again: still the original volumes
    assert names.base("ann2") == "ann"


def test_delete_keeps_volumes_claimed_until_removed(db, names):
    bob = add_user(db, "bob")
    volumemap.user_deleted(db, "bob")  # what Authenticator.delete_user does
    db.delete(bob)
    db.commit()
    kept = volumemap.kept_volume_sets(db)
    assert [(k.deleted_name, k.base) for k in kept] == [("bob", "bob")]

    bob2 = add_user(db, "bob")
    assert names.base("bob") == "bob-x2"  # the deleted bob's kept files stay his

    volumemap.forget_deleted(db, "bob")  # his volumes were removed
    assert volumemap.kept_volume_sets(db) == []
    volumemap.user_deleted(db, "bob")
    db.delete(bob2)
    db.commit()
    add_user(db, "bob")
    assert names.base("bob") == "bob"  # free again; the second bob's kept volumes stay his
    assert [k.base for k in volumemap.kept_volume_sets(db)] == ["bob-x2"]


def test_a_delete_done_again_after_a_crash_claims_the_volumes_once(db, names):
    cy = add_user(db, "cy")
    volumemap.user_deleted(db, "cy")  # the first hub committed this, then died
    db.commit()
    volumemap.user_deleted(db, "cy")  # the next start completes the delete
    db.delete(cy)
    db.commit()
    assert [(k.deleted_name, k.base) for k in volumemap.kept_volume_sets(db)] == [("cy", "cy")]


def test_rename_refused_while_server_runs(db):
    carl = add_user(db, "carl")
    spawner = orm.Spawner(user=carl, name="")
    spawner.server = orm.Server()
    db.add(spawner)
    db.commit()
    problem = lifecycle.rename_problem(db, User(carl, {"db": db}), "carla")
    assert problem and "running server" in problem
    spawner.server = None
    db.commit()
    rename(db, carl, "carla")
    assert info(db, "carla") is not None


def test_rename_onto_a_pending_signup_is_refused(db):
    eve = add_user(db, "eve")
    db.add(UserInfo(username="mallory", password=passwords.hash_password("x"), is_authorized=False))
    db.commit()
    problem = lifecycle.rename_problem(db, User(eve, {"db": db}), "mallory")
    assert problem and "signup named mallory" in problem
