"""labnotify against real HTTP servers on 127.0.0.1 that behave like labs do (answering, missing
the extension, refusing, redirecting to log in, accepting a connection and never answering),
with tokens in a real JupyterHub ORM. Real labs are covered by the integration tests."""

from __future__ import annotations

import json
import socket
import time
from types import SimpleNamespace

import pytest
from jupyterhub import orm, roles
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from stellars_hub import labnotify


@pytest.fixture
def db():
    session = orm.new_session_factory("sqlite:///:memory:")()
    session.add(orm.OAuthClient(identifier="jupyterhub"))  # the hub's own client, as in a real hub
    for role in roles.get_default_roles():
        roles.create_role(session, role)
    session.commit()
    yield session
    session.close()


class LabUser:
    """What labnotify reads from JupyterHub's User: name, db, spawner, new_api_token."""

    def __init__(self, db, name, url=None, ready=True):
        self.orm_user = orm.User(name=name)
        db.add(self.orm_user)
        db.commit()
        if name != "nobody":  # 'nobody' lacks the user role, so the hub may not issue its token
            roles.grant_role(db, self.orm_user, "user")
        self.name, self.db = name, db
        server = SimpleNamespace(url=url) if url else None
        self.spawner = SimpleNamespace(ready=ready and server is not None, server=server, name="")

    def new_api_token(self, **kwargs):
        return self.orm_user.new_api_token(**kwargs)


class FakeLabs:
    """One tornado app serving several 'labs' under /user/<name>/, the way jupyter-server does."""

    def __init__(self, db):
        self.db = db
        self.received: dict[str, list] = {}
        self.tokens_seen: list[dict] = []

    def app(self):
        labs = self

        class Ingest(web.RequestHandler):
            def post(self, name):
                token = self.request.headers.get("Authorization", "").removeprefix("token ")
                found = orm.APIToken.find(labs.db, token)
                labs.tokens_seen.append(
                    {
                        "user": name,
                        "exists": found is not None,
                        "scopes": found.scopes if found else None,
                        "expires_in": found.expires_in if found else None,
                        "owner": found.user.name if found else None,
                    }
                )
                if found is None:
                    raise web.HTTPError(403)
                labs.received.setdefault(name, []).append(json.loads(self.request.body))
                self.finish({"success": True, "notification_id": "n1"})

        class Forbidden(web.RequestHandler):
            def post(self):
                raise web.HTTPError(403)

        class Redirect(web.RequestHandler):
            def post(self):
                self.redirect("/hub/login")

        class Broken(web.RequestHandler):
            def post(self):
                raise web.HTTPError(500)

        class NotJSON(web.RequestHandler):
            def post(self):
                self.finish("<html>a login page</html>")

        ns = "jupyterlab-notifications-extension/ingest"
        return web.Application(
            [
                (rf"/user/(ok[^/]*)/{ns}", Ingest),
                (rf"/user/forbidden/{ns}", Forbidden),
                (rf"/user/redirect/{ns}", Redirect),
                (rf"/user/broken/{ns}", Broken),
                (rf"/user/html/{ns}", NotJSON),
            ]
        )  # anything else (the 'noext' lab) is tornado's 404


@pytest.fixture
async def labs(db):
    fake = FakeLabs(db)
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(fake.app())
    server.add_sockets(sockets)
    fake.base = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    yield fake
    server.stop()
    await server.close_all_connections()


@pytest.fixture
def hanging_url():
    """A port whose listener never accepts: the kernel completes the handshake and takes the
    request, nobody answers, like a lab whose process is stopped."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture
def refused_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more
    return f"http://127.0.0.1:{port}"


def lab_url(base, name):
    return f"{base}/user/{name}/"


@pytest.fixture(autouse=True)
def no_kept_tokens():
    labnotify._kept.clear()
    yield
    labnotify._kept.clear()


async def test_delivered_with_a_server_scoped_short_lived_token_reused_while_fresh(db, labs):
    user = LabUser(db, "ok1", lab_url(labs.base, "ok1"))
    body = labnotify.payload("Maintenance at 18:00", "warning", True)

    result = await labnotify.deliver(user, body, timeout=2)

    assert result == labnotify.Delivery("ok1", "delivered", None)
    assert result.as_dict() == {"username": "ok1", "server": "", "status": "delivered", "error": None}
    assert labs.received["ok1"] == [body]
    [seen] = labs.tokens_seen
    assert seen["exists"] and seen["owner"] == "ok1"
    assert seen["scopes"] == ["access:servers!server=ok1/"]
    assert 0 < seen["expires_in"] <= labnotify.TOKEN_LIFETIME <= 300
    # kept for the next delivery to this server: the lab already knows it
    assert db.query(orm.APIToken).count() == 1
    assert (await labnotify.deliver(user, body, timeout=2)).ok
    assert db.query(orm.APIToken).count() == 1 and len(labs.received["ok1"]) == 2

    # a kept token deleted meanwhile (e.g. on the token page): refused once, then a fresh one
    db.query(orm.APIToken).delete()
    db.commit()
    assert (await labnotify.deliver(user, body, timeout=2)).ok
    assert db.query(orm.APIToken).count() == 1 and len(labs.received["ok1"]) == 3

    # near its expiry a kept token is replaced, never used
    key = next(iter(labnotify._kept))
    labnotify._kept[key] = (labnotify._kept[key][0], time.monotonic() + labnotify.REUSE_MARGIN - 1)
    before = labnotify._kept[key][0]
    assert (await labnotify.deliver(user, body, timeout=2)).ok
    assert labnotify._kept[key][0] != before


def test_payload_shape():
    body = labnotify.payload("hello", "success", False)
    assert body["message"] == "hello" and body["type"] == "success"
    assert body["autoClose"] is False and body["immediate"] is True
    assert [a["label"] for a in body["actions"]] == ["Dismiss"]
    assert labnotify.payload("x", "info", True)["autoClose"] == labnotify.DEFAULT_AUTO_CLOSE_MS
    assert labnotify.payload("x", "info", 1500)["autoClose"] == 1500
    assert set(labnotify.TYPES) == {"default", "info", "success", "warning", "error", "in-progress"}


async def test_each_failure_has_its_plain_reason_and_revokes_its_token(db, labs, hanging_url, refused_url):
    users = [
        LabUser(db, "stopped"),
        LabUser(db, "noext", lab_url(labs.base, "noext")),
        LabUser(db, "forbidden", lab_url(labs.base, "forbidden")),
        LabUser(db, "redirect", lab_url(labs.base, "redirect")),
        LabUser(db, "broken", lab_url(labs.base, "broken")),
        LabUser(db, "html", lab_url(labs.base, "html")),
        LabUser(db, "hangs", lab_url(hanging_url, "hangs")),
        LabUser(db, "refused", lab_url(refused_url, "refused")),
        LabUser(db, "nobody", lab_url(labs.base, "ok-nobody")),
        LabUser(db, "ok2", lab_url(labs.base, "ok2")),
    ]
    results = await labnotify.deliver_many(users, labnotify.payload("hi"), timeout=0.5)

    assert [r.username for r in results] == [u.name for u in users]
    assert {r.username: r.error for r in results} == {
        "stopped": labnotify.NOT_RUNNING,
        "noext": labnotify.NO_EXTENSION,
        "forbidden": labnotify.NOT_AUTHORISED,
        "redirect": labnotify.NOT_AUTHORISED,
        "broken": "the lab answered HTTP 500",
        "html": labnotify.UNEXPECTED_ANSWER,
        "hangs": labnotify.NOT_RESPONDING,
        "refused": labnotify.NOT_RESPONDING,
        "nobody": labnotify.NOT_AUTHORISED,
        "ok2": None,
    }
    assert [r.status for r in results].count("delivered") == 1
    # every failed delivery's token is revoked at once; only the one that delivered is kept
    assert db.query(orm.APIToken).count() == 1


async def test_healthy_labs_are_not_starved_by_more_hanging_labs_than_tornado_allows(db, labs, hanging_url):
    # tornado's shared client has 10 connections; 12 hanging labs listed first would keep
    # every healthy lab waiting in its queue until the timeout
    hanging = [LabUser(db, f"hang{i}", lab_url(hanging_url, f"hang{i}")) for i in range(12)]
    healthy = [LabUser(db, f"ok-{i}", lab_url(labs.base, f"ok-{i}")) for i in range(3)]
    timeout = 1.0

    started = time.monotonic()
    results = await labnotify.deliver_many(hanging + healthy, labnotify.payload("hi"), timeout=timeout)
    elapsed = time.monotonic() - started

    by_name = {r.username: r for r in results}
    assert all(by_name[u.name].status == "delivered" for u in healthy), results
    assert all(by_name[u.name].error == labnotify.NOT_RESPONDING for u in hanging)
    assert sorted(labs.received) == sorted(u.name for u in healthy)
    # concurrently: 12 hanging labs cost one timeout, not twelve (nor two)
    assert timeout <= elapsed < 2 * timeout


async def test_concurrency_bound_is_honoured(db, hanging_url):
    hanging = [LabUser(db, f"h{i}", lab_url(hanging_url, f"h{i}")) for i in range(6)]
    timeout = 0.4

    started = time.monotonic()
    results = await labnotify.deliver_many(hanging, labnotify.payload("hi"), timeout=timeout, concurrency=2)
    elapsed = time.monotonic() - started

    assert all(r.error == labnotify.NOT_RESPONDING for r in results)
    assert elapsed >= 3 * timeout  # 6 labs, 2 at a time: three rounds of one timeout


async def test_nothing_to_do():
    assert await labnotify.deliver_many([], labnotify.payload("hi")) == []


async def test_literal_resolver_answers_addresses_itself_and_names_as_usual():
    import socket

    from stellars_hub.labnotify import LiteralResolver

    resolver = LiteralResolver()
    assert await resolver.resolve("10.1.2.3", 8888) == [(socket.AF_INET, ("10.1.2.3", 8888))]
    assert await resolver.resolve("[fd00::5]", 8888) == [(socket.AF_INET6, ("fd00::5", 8888, 0, 0))]
    by_name = await resolver.resolve("localhost", 8888)
    assert by_name and all(addr[1] == 8888 for _, addr in by_name)
