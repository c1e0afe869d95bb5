"""Wait until a lab answers HTTP, looking often at first.

A lab starts in a few seconds; JupyterHub's own wait (``wait_for_http_server``) backs off
exponentially up to 5 s between looks, so it notices a ready lab on average a second or two
late. Looking every 50 ms, growing gently to 250 ms, notices it within a fraction of that
while a lab that takes long costs no more than four refused connections a second.
"""

from __future__ import annotations

import asyncio
import time

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

FIRST_INTERVAL = 0.05
MAX_INTERVAL = 0.25
GROWTH = 1.3


def below_500(code: int) -> bool:
    return code < 500


async def wait_until_answering(url: str, bound: float, alive=None, answered=below_500) -> bool:
    """True once ``url`` gives an answer that ``answered(code)`` accepts (by default below 500:
    a proxy answers 5xx while the lab is down), False after ``bound`` seconds or as soon as the
    optional async ``alive()`` says False."""
    client = AsyncHTTPClient()
    deadline = time.monotonic() + bound
    interval = FIRST_INTERVAL
    next_alive_check = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            await client.fetch(url, follow_redirects=False, request_timeout=5, validate_cert=False)
            return True
        except HTTPClientError as exc:
            if exc.code != 599 and answered(exc.code):  # 599: tornado's timeout / dropped connection
                return True
        except OSError:
            pass
        if alive is not None and time.monotonic() >= next_alive_check:
            if not await alive():
                return False
            next_alive_check = time.monotonic() + 1.0
        await asyncio.sleep(interval)
        interval = min(MAX_INTERVAL, interval * GROWTH)
    return False
