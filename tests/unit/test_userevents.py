import pytest
from jupyterhub import orm

from stellars_hub.web import userevents


@pytest.fixture
def db():
    session = orm.new_session_factory("sqlite:///:memory:")()
    yield session
    session.close()


def test_rename_and_delete_reach_subscribers_after_commit_only(db):
    seen = []
    in_tx = []

    def renamed(old, new):
        seen.append(("rename", old, new))

    def deleted(name):
        seen.append(("delete", name))

    def renamed_in_tx(session, old, new):
        in_tx.append((old, new, session is db))

    userevents.on_rename(renamed)
    userevents.on_delete(deleted)
    userevents.on_rename(renamed_in_tx, in_transaction=True)
    try:
        user = orm.User(name="ann")
        db.add(user)
        db.commit()
        assert seen == []  # creation is neither

        user.name = "anna"
        db.flush()
        assert in_tx == [("ann", "anna", True)] and seen == []  # not committed yet
        db.commit()
        assert seen == [("rename", "ann", "anna")]

        user.name = "zed"
        db.flush()
        db.rollback()
        assert seen == [("rename", "ann", "anna")]  # rolled back: nothing announced

        db.delete(db.query(orm.User).filter_by(name="anna").one())
        db.commit()
        assert seen[-1] == ("delete", "anna")
    finally:
        userevents._renames_after.remove(renamed)
        userevents._deletes_after.remove(deleted)
        userevents._renames_in_tx.remove(renamed_in_tx)
