"""Revocation that bites: what an un-authorised user still holds ends at once.

Un-authorising only blocks new logins in NativeAuthenticator. Here the user's browser sessions
end (JupyterHub finds a cookie's user by ``cookie_id``: a new one makes every issued cookie
unknown), their API and OAuth tokens are deleted, and their running labs are stopped (files
kept). Deleting a user removes all of that with the user row.
"""

from __future__ import annotations

from jupyterhub.utils import new_token


async def revoke_access(handler, user) -> dict:
    """End ``user``'s sessions, tokens and running servers; say what was ended."""
    orm_user = user.orm_user
    orm_user.cookie_id = new_token()
    tokens = list(orm_user.api_tokens)
    for token in tokens:
        handler.db.delete(token)
    handler.db.commit()
    stopped = []
    for name, spawner in list(user.spawners.items()):
        if spawner.active and not spawner._stop_pending:
            await handler.stop_single_user(user, name)
            stopped.append(name or "default")
    return {"sessions_ended": True, "tokens_revoked": len(tokens), "servers_stopped": stopped}
