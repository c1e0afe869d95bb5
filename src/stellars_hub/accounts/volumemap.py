"""Which volumes belong to whom, across renames and deletes.

A user's volumes are named after their escaped name (``naming.VolumeNames.base``) unless this table
says otherwise. Rows exist only for the exceptions:

- a renamed user keeps the volumes they had: the rename stores their original base;
- a deleted user whose volumes were kept still owns them (``user_name`` empty, ``deleted_name``
  set), so nobody inherits their files;
- a newcomer whose own base is taken by one of the above gets a fresh generated one.

Every change happens inside the hub's own transaction (the rename, the insert or the delete of
the ``users`` row), so the mapping can never disagree with the users table.
"""

from __future__ import annotations

from datetime import datetime, timezone

from jupyterhub.orm import Base
from sqlalchemy import DateTime, Integer, Unicode, select
from sqlalchemy.orm import Mapped, mapped_column

from .. import naming


class VolumeSet(Base):
    __tablename__ = "stellars_volume_sets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_name: Mapped[str | None] = mapped_column(
        Unicode(255), unique=True, nullable=True
    )  # empty once the user is deleted
    base: Mapped[str] = mapped_column(Unicode(255), unique=True, nullable=False)
    deleted_name: Mapped[str | None] = mapped_column(Unicode(255), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


def _row_for(session, user_name: str) -> VolumeSet | None:
    with session.no_autoflush:
        return session.execute(select(VolumeSet).where(VolumeSet.user_name == user_name)).scalar_one_or_none()


def _taken(session, base: str) -> bool:
    with session.no_autoflush:
        return session.execute(select(VolumeSet.id).where(VolumeSet.base == base)).first() is not None


def base_for(session, user_name: str) -> str | None:
    """The stored base of an existing user, or None (their own escaped name)."""
    row = _row_for(session, user_name)
    return row.base if row else None


def _retire_stale(session, user_name: str) -> None:
    # a row naming a user who is not in the users table (the hub database was edited by hand,
    # or users were deleted while these hooks were not installed): that user's volumes stay kept
    row = _row_for(session, user_name)
    if row is not None:
        row.user_name, row.deleted_name = None, row.deleted_name or user_name
        row.deleted_at = row.deleted_at or datetime.now(timezone.utc).replace(tzinfo=None)


def user_created(session, name: str) -> None:
    """A new user: their own base unless a renamed or deleted user still owns those volumes."""
    _retire_stale(session, name)
    if not _taken(session, naming.escape_name(name)):
        return
    n = 2
    while _taken(session, naming.generated_base(name, n)):
        n += 1
    session.add(VolumeSet(user_name=name, base=naming.generated_base(name, n)))


def user_renamed(session, old: str, new: str) -> None:
    """The renamed user keeps the volumes they had under the old name."""
    _retire_stale(session, new)
    row = _row_for(session, old)
    if row is None:
        session.add(VolumeSet(user_name=new, base=naming.escape_name(old)))
    else:
        row.user_name = new


def user_deleted(session, name: str) -> None:
    """The deleted user's (kept) volumes stay theirs: a later user of that name gets fresh ones."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    row = _row_for(session, name)
    if row is None:
        # taken already: this same delete, begun by a hub that died before it ended (intents.py)
        if not _taken(session, naming.escape_name(name)):
            session.add(VolumeSet(user_name=None, base=naming.escape_name(name), deleted_name=name, deleted_at=now))
    else:
        row.user_name, row.deleted_name, row.deleted_at = None, name, now


def forget_deleted(session, base: str) -> None:
    """The volumes of a deleted user were removed: their base is free again."""
    with session.no_autoflush:
        for row in session.execute(
            select(VolumeSet).where(VolumeSet.base == base, VolumeSet.user_name.is_(None))
        ).scalars():
            session.delete(row)
    session.commit()


def kept_volume_sets(session) -> list[VolumeSet]:
    """Volume sets of deleted users, newest first."""
    stmt = select(VolumeSet).where(VolumeSet.user_name.is_(None)).order_by(VolumeSet.deleted_at.desc())
    return list(session.execute(stmt).scalars())
