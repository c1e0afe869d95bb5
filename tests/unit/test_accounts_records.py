"""Rename and delete in the hub's ORM: login records and volume ownership follow the user."""

import pytest
from jupyterhub import orm
from nativeauthenticator.orm import UserInfo
from tornado import web

from stellars_hub import naming
from stellars_hub.accounts import lifecycle, passwords, volumemap
from stellars_hub.accounts.credentials import CredentialCache


class FakeAuthenticator:
    def __init__(self):
        self.credentials = CredentialCache(300)
        self.login_attempts = {}


@pytest.fixture
def db():
    session = orm.new_session_factory("sqlite:///:memory:")()
    auth = FakeAuthenticator()
    lifecycle.install(auth)
    naming.use_volume_bases(lambda name: volumemap.base_for(session, name))
    session.auth = auth
    yield session
    naming.use_volume_bases(None)
    session.close()


def add_user(db, name, password="pw-for-tests"):
    user = orm.User(name=name)
    db.add(user)
    db.add(UserInfo(username=name, password=passwords.hash_password(password), is_authorized=True))
    db.commit()
    return user


def info(db, name):
    return db.query(UserInfo).filter_by(username=name).one_or_none()


def test_rename_keeps_login_and_volumes_and_newcomer_gets_fresh_ones(db):
    ann = add_user(db, "ann", "anns-password")
    db.auth.credentials.put("ann", "anns-password")
    assert naming.user_volume_names("ann")["home"] == "jupyterlab-ann_home"

    ann.name = "anna"
    db.commit()
    assert info(db, "ann") is None and info(db, "anna").is_valid_password("anns-password")
    assert naming.user_volume_names("anna")["home"] == "jupyterlab-ann_home"  # her files, same volumes
    assert [c["username"] for c in db.auth.credentials.get(["ann", "anna"])] == ["anna"]

    newcomer = orm.User(name="ann")
    db.add(newcomer)
    db.commit()
    assert info(db, "ann") is None  # no login inherited
    assert naming.user_volume_names("ann")["home"] == "jupyterlab-ann-x2_home"  # empty, not anna's

    ann.name = "ann2"  # renamed again: still the original volumes
    db.commit()
    assert naming.volume_base("ann2") == "ann"


def test_delete_removes_login_and_keeps_volumes_claimed(db):
    bob = add_user(db, "bob")
    db.auth.credentials.put("bob", "x")
    db.delete(bob)
    db.commit()
    assert info(db, "bob") is None and db.auth.credentials.get(["bob"]) == []
    kept = volumemap.kept_volume_sets(db)
    assert [(k.deleted_name, k.base) for k in kept] == [("bob", "bob")]

    db.add(orm.User(name="bob"))
    db.commit()
    assert naming.volume_base("bob") == "bob-x2"  # the deleted bob's kept files stay his

    volumemap.forget_deleted(db, "bob")  # his volumes were removed
    assert volumemap.kept_volume_sets(db) == []
    db.delete(db.query(orm.User).filter_by(name="bob").one())
    db.commit()
    db.add(orm.User(name="bob"))
    db.commit()
    assert naming.volume_base("bob") == "bob"  # free again; the second bob's kept volumes stay his
    assert [k.base for k in volumemap.kept_volume_sets(db)] == ["bob-x2"]


def test_rename_refused_while_server_runs_and_session_stays_usable(db):
    carl = add_user(db, "carl")
    spawner = orm.Spawner(user=carl, name="")
    spawner.server = orm.Server()
    db.add(spawner)
    db.commit()
    with pytest.raises(web.HTTPError) as refused:
        carl.name = "carla"
    assert refused.value.status_code == 409 and "running server" in refused.value.log_message
    assert carl.name == "carl"
    db.add(orm.User(name="dora"))
    db.commit()  # nothing pending, nothing broken
    assert {u.name for u in db.query(orm.User)} == {"carl", "dora"}

    spawner.server = None
    db.commit()
    carl.name = "carla"
    db.commit()
    assert info(db, "carla") is not None


def test_rename_onto_a_pending_signup_is_refused(db):
    eve = add_user(db, "eve")
    db.add(UserInfo(username="mallory", password=passwords.hash_password("x"), is_authorized=False))
    db.commit()
    with pytest.raises(web.HTTPError) as refused:
        eve.name = "mallory"
    assert refused.value.status_code == 409 and "signup named mallory" in refused.value.log_message


def test_delete_through_jupyterhubs_user_wrapper_is_seen(db):
    # JupyterHub's UserDict.delete hands its User wrapper, not the ORM object, to session.delete
    from jupyterhub.user import User

    fay = add_user(db, "fay")
    db.delete(User(fay, {"db": db}))
    db.commit()
    assert info(db, "fay") is None
    assert [k.deleted_name for k in volumemap.kept_volume_sets(db)] == ["fay"]
