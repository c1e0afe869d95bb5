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


def test_a_named_server_is_checked_with_jupyterhubs_server_filter():
    from stellars_hub.web.permissions import allowed_on_server

    one = _handler("servers!server=ann/gpu")
    assert allowed_on_server(one, "servers", "ann", "gpu")
    assert not allowed_on_server(one, "servers", "ann", "cpu")  # only the server it names
    assert not allowed_on_server(one, "servers", "ann", "")  # nor the default server
    assert not allowed_on_server(one, "servers", "bob", "gpu")
    user = _handler("servers!user=ann")
    assert allowed_on_server(user, "servers", "ann", "gpu") and allowed_on_server(user, "servers", "ann", "")
    assert not allowed_on_server(user, "servers", "bob", "gpu")
    assert allowed_on_server(_handler("servers"), "servers", "bob", "gpu")
