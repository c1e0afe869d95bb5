"""Wait until a lab answers HTTP, noticing it within a few tens of milliseconds.

A lab starts in a few seconds; JupyterHub's own wait (``wait_for_http_server``) backs off
exponentially up to 5 s between looks, so it notices a ready lab on average a second or two
late. Given the lab's own address, this wait first knocks on its port (a bare TCP connect: a
refused one costs the event loop about 40 µs, an HTTP look about six times that) every 20 ms,
growing to 50 ms, and makes the HTTP look once the port accepts (and at least every second, in
case the knocks cannot get through). Without an address it looks over HTTP every 50 ms, growing
gently to 250 ms.
"""

from __future__ import annotations

import asyncio
import time

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

FIRST_INTERVAL = 0.05
MAX_INTERVAL = 0.25
GROWTH = 1.3
KNOCK_FIRST = 0.02
KNOCK_MAX = 0.05
LOOK_AT_LEAST = 1.0  # an address the hub cannot knock on (filtered) still gets HTTP looks


def below_500(code: int) -> bool:
    return code < 500


async def port_accepts(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on ``host:port`` (the connection is closed at once)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host.strip("[]"), port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


async def wait_until_answering(
    url: str, bound: float, alive=None, answered=below_500, address: tuple[str, int] | None = None
) -> bool:
    """True once ``url`` gives an answer that ``answered(code)`` accepts (by default below 500:
    a proxy answers 5xx while the lab is down), False after ``bound`` seconds or as soon as the
    optional async ``alive()`` says False. ``address`` (host, port): the lab's own listening
    address, knocked on before each HTTP look (``url`` may lead there through the proxy)."""
    client = AsyncHTTPClient()
    deadline = time.monotonic() + bound
    interval = FIRST_INTERVAL
    knock = KNOCK_FIRST
    next_alive_check = time.monotonic() + 1.0
    next_look = 0.0  # an HTTP look at least this often, whatever the knocks say
    while time.monotonic() < deadline:
        if address is None or time.monotonic() >= next_look or await port_accepts(*address):
            next_look = time.monotonic() + LOOK_AT_LEAST
            try:
                await client.fetch(url, follow_redirects=False, request_timeout=5, validate_cert=False)
                return True
            except HTTPClientError as exc:
                if exc.code != 599 and answered(exc.code):  # 599: tornado's timeout / dropped connection
                    return True
            except OSError:
                pass
            pause = interval  # something answers but not yet as wanted: back off as before
            interval = min(MAX_INTERVAL, interval * GROWTH)
        else:
            pause = knock
            knock = min(KNOCK_MAX, knock * GROWTH)
        if alive is not None and time.monotonic() >= next_alive_check:
            if not await alive():
                return False
            next_alive_check = time.monotonic() + 1.0
        await asyncio.sleep(pause)
    return False
