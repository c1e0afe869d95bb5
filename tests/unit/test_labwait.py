"""labwait against a real HTTP server on 127.0.0.1 that starts listening late, answers 5xx for a
while (as the proxy does while a lab is down), or never comes."""

from __future__ import annotations

import asyncio

import pytest
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from stellars_hub.labwait import port_accepts, wait_until_answering


class Flaky(web.RequestHandler):
    failures = 0

    def get(self):
        if Flaky.failures > 0:
            Flaky.failures -= 1
            self.set_status(503)
        self.finish("x")


def _reserve_port() -> tuple[list, int]:
    sockets = bind_sockets(0, "127.0.0.1")
    return sockets, sockets[0].getsockname()[1]


@pytest.mark.parametrize("knock", [False, True], ids=["http-only", "knocking-on-the-lab-address"])
async def test_waits_until_a_late_server_listens(knock):
    sockets, port = _reserve_port()
    server = HTTPServer(web.Application([(r"/api", Flaky)]))

    async def listen_later():
        await asyncio.sleep(0.3)
        server.add_sockets(sockets)

    Flaky.failures = 0
    late = asyncio.ensure_future(listen_later())
    try:
        address = ("127.0.0.1", port) if knock else None
        assert await wait_until_answering(f"http://127.0.0.1:{port}/api", bound=30, address=address)
        assert late.done()  # it only returned once the server was there
    finally:
        server.stop()


async def test_a_5xx_answer_is_not_ready_yet():
    sockets, port = _reserve_port()
    server = HTTPServer(web.Application([(r"/api", Flaky)]))
    server.add_sockets(sockets)
    Flaky.failures = 3
    try:
        assert await wait_until_answering(f"http://127.0.0.1:{port}/api", bound=30)
        assert Flaky.failures == 0  # every 503 was seen and waited past
    finally:
        server.stop()


async def test_a_dead_lab_ends_the_wait_and_a_missing_one_times_out():
    sockets, port = _reserve_port()
    for s in sockets:
        s.close()  # nothing will ever listen there

    asked = []

    async def dead():
        asked.append(True)
        return False

    assert not await wait_until_answering(f"http://127.0.0.1:{port}/api", bound=60, alive=dead)
    assert len(asked) == 1  # the first "not alive" ended the wait
    assert not await wait_until_answering(f"http://127.0.0.1:{port}/api", bound=0.5)


async def test_an_address_that_never_accepts_still_gets_http_looks():
    # the lab's address cannot be knocked on (here: nothing listens there), but the URL answers
    # (in a hub: through the proxy); the wait must not depend on the knocks alone
    closed, closed_port = _reserve_port()
    for s in closed:
        s.close()
    sockets, port = _reserve_port()
    server = HTTPServer(web.Application([(r"/api", Flaky)]))
    Flaky.failures = 2  # not ready at the first look: only the periodic looks can see it ready
    server.add_sockets(sockets)
    try:
        url = f"http://127.0.0.1:{port}/api"
        assert await wait_until_answering(url, bound=30, address=("127.0.0.1", closed_port))
        assert Flaky.failures == 0
    finally:
        server.stop()


async def test_port_accepts():
    sockets, port = _reserve_port()
    server = HTTPServer(web.Application([(r"/api", Flaky)]))
    server.add_sockets(sockets)
    try:
        assert await port_accepts("127.0.0.1", port)
    finally:
        server.stop()
    assert not await port_accepts("127.0.0.1", port)
