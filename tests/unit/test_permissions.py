"""web.permissions.allowed: JupyterHub's own scope evaluation, filtered on the target user."""

from types import SimpleNamespace

from jupyterhub.scopes import parse_scopes

from stellars_hub.web.permissions import allowed


def _handler(*scopes):
    return SimpleNamespace(parsed_scopes=parse_scopes(set(scopes)), db=None)


def test_own_filtered_scope():
    h = _handler("custom:volumes:reset!user=ann")
    assert allowed(h, "custom:volumes:reset", "ann")
    assert not allowed(h, "custom:volumes:reset", "bob")
    assert not allowed(h, "custom:volumes:read", "ann")  # parse does not expand subscopes


def test_unfiltered_scope_covers_everyone():
    h = _handler("admin:servers")
    assert allowed(h, "admin:servers", "anyone")
    assert not allowed(h, "custom:volumes:reset", "anyone")


def test_no_scopes_nothing_allowed():
    assert not allowed(_handler(), "servers", "ann")
