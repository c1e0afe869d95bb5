"""JupyterHub's share records, read and ended the platform's way (its ORM, no record of our own).

A share *opens* a lab when its scopes carry the lab's enter scope (``lab.mixin.lab_scope``):
that, and JupyterHub's ``access:servers`` on the server, is what the platform puts into every
share it makes (``lab_share_scopes``). Visitors are found the way they got in: an OAuth token
of the lab's own client held by someone other than its owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from jupyterhub import orm

from ..lab.mixin import ENTER_SCOPE as ENTER
from ..lab.mixin import lab_scope

ACCESS = "access:servers"


def lab_share_scopes(owner: str, server: str) -> list[str]:
    """What a share of ``owner``'s lab ``server`` carries: JupyterHub's access scope (the hub's
    OAuth check) and the enter scope (the lab's own check)."""
    return [f"{ACCESS}!server={owner}/{server}", lab_scope(owner, server)]


def opens_lab(scopes) -> bool:
    """Whether a share request's scopes are about entering the lab: none given (JupyterHub's
    default is access to the server), or JupyterHub's access scope or the enter scope among them."""
    if not scopes:
        return True
    return any(str(s).partition("!")[0] in (ACCESS, ENTER) for s in scopes)


def carries_enter(scopes) -> bool:
    return any(s.partition("!")[0] == ENTER for s in scopes or ())


def server_label(owner: str, server: str) -> str:
    return f"{owner}/{server}" if server else owner


def _naive_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class ShareRow:
    """One share as the audit and the home page name it."""

    id: int
    owner: str
    server: str
    kind: str  # "user" or "group"
    name: str
    opens: bool

    @property
    def recipient(self) -> dict:
        return {self.kind: self.name}


def row_of(share: orm.Share) -> ShareRow:
    kind, name = ("user", share.user.name) if share.user is not None else ("group", share.group.name)
    return ShareRow(share.id, share.owner.name, share.spawner.name, kind, name, carries_enter(share.scopes))


def shares_of_spawner(db, spawner_id: int) -> dict[int, ShareRow]:
    return {s.id: row_of(s) for s in db.query(orm.Share).filter(orm.Share.spawner_id == spawner_id)}


def codes_of_spawner(db, spawner_id: int) -> set[int]:
    return {i for (i,) in db.query(orm.ShareCode.id).filter(orm.ShareCode.spawner_id == spawner_id)}


def holders(db, spawner_ids) -> dict[int, dict[int, str]]:
    """spawner id -> {user id: how they hold it ("user" or "group <name>")} for the unexpired
    shares of those servers that open the lab."""
    found: dict[int, dict[int, str]] = {}
    ids = list(spawner_ids)
    if not ids:
        return found
    now = _naive_now()
    for share in db.query(orm.Share).filter(orm.Share.spawner_id.in_(ids)):
        if (share.expires_at is not None and share.expires_at <= now) or not carries_enter(share.scopes):
            continue
        held = found.setdefault(share.spawner_id, {})
        if share.user is not None:
            held[share.user.id] = "user"
        elif share.group is not None:
            for member in share.group.users:
                held.setdefault(member.id, f"group {share.group.name}")
    return found


@dataclass(frozen=True)
class Visit:
    token_id: int
    visitor_id: int
    visitor: str
    spawner_id: int
    owner: str
    server: str


def visitor_tokens(db) -> list[Visit]:
    """Live OAuth tokens of labs' own clients held by someone other than the lab's owner: how
    anyone who opened someone else's lab got in (a share, or an admin with consent)."""
    now = _naive_now()
    visitor = orm.User.__table__.alias("visitor")
    owner = orm.User.__table__.alias("owner")
    q = (
        db.query(
            orm.APIToken.id,
            orm.APIToken.user_id,
            visitor.c.name,
            orm.Spawner.id,
            owner.c.name,
            orm.Spawner.name,
        )
        .join(orm.Spawner, orm.Spawner.oauth_client_id == orm.APIToken.client_id)
        .join(visitor, visitor.c.id == orm.APIToken.user_id)
        .join(owner, owner.c.id == orm.Spawner.user_id)
        .filter(orm.APIToken.user_id != orm.Spawner.user_id)
        .filter((orm.APIToken.expires_at.is_(None)) | (orm.APIToken.expires_at > now))
    )
    return [Visit(t, vid, vname, sid, oname, sname or "") for t, vid, vname, sid, oname, sname in q]


def delete_tokens(db, visitor_id: int, spawner_id: int) -> int:
    """End a visitor's OAuth sessions with one lab (its client's tokens of theirs)."""
    spawner = db.query(orm.Spawner).filter(orm.Spawner.id == spawner_id).one_or_none()
    if spawner is None or not spawner.oauth_client_id:
        return 0
    n = 0
    for token in db.query(orm.APIToken).filter(
        orm.APIToken.user_id == visitor_id, orm.APIToken.client_id == spawner.oauth_client_id
    ):
        db.delete(token)
        n += 1
    db.commit()
    return n


def shares_touching(db, user: orm.User) -> tuple[list[orm.Share], list[orm.ShareCode]]:
    """Every share of ``user``'s labs, every share made to them, and their labs' links."""
    shares = db.query(orm.Share).filter((orm.Share.owner_id == user.id) | (orm.Share.user_id == user.id)).all()
    codes = db.query(orm.ShareCode).filter(orm.ShareCode.owner_id == user.id).all()
    return shares, codes
