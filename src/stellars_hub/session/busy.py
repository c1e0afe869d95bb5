"""Is a lab busy? Asked of the lab itself when its idle deadline is near, because the hub's record
of a lab's activity misses the two things that matter most:

- a kernel running code that prints nothing: jupyter-server counts a kernel's messages as
  activity, so a silent hour-long cell looks idle from its first minute; its ``execution_state``
  says ``busy``;
- a terminal in use with no browser attached: the terminal's own last activity (input or
  output on its pty) moves, the server's reported activity does not.

The lab also reports its activity to the hub only every few minutes. The hub reads the lab's
``/api/status`` (its last activity as it would report it), ``/api/kernels`` and
``/api/terminals`` at the lab's own address with a short-lived token of its owner scoped to that
server, with ``no_track_activity`` (looking is no activity), and records what it found as the
server's last activity: a busy kernel counts as activity now.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime

from tornado.httpclient import HTTPClientError, HTTPRequest

from .. import labnotify
from . import deadline as dl

TIMEOUT = 10.0


@dataclass(frozen=True)
class LabActivity:
    last_activity: datetime | None  # the newest activity the lab knows of (naive UTC)
    busy_kernels: int
    terminals: int
    reason: str | None  # why it is busy now, for people; None when it is not

    @property
    def busy(self) -> bool:
        return self.reason is not None


class LabUnreachable(Exception):
    """The lab did not answer (its reason, as broadcasts word it)."""


def read(status: dict, kernels: list, terminals: list, now: datetime) -> LabActivity:
    """What the lab's three answers say (pure)."""
    times = [dl.naive_utc(status.get("last_activity"))]
    busy = [k for k in kernels if k.get("execution_state") == "busy"]
    times += [dl.naive_utc(k.get("last_activity")) for k in kernels]
    times += [dl.naive_utc(t.get("last_activity")) for t in terminals]
    if busy:
        times.append(now)
    known = [t for t in times if t is not None]
    reason = None
    if busy:
        reason = f"{len(busy)} kernel{'s' if len(busy) != 1 else ''} running code"
    return LabActivity(max(known) if known else None, len(busy), len(terminals), reason)


async def ask_lab(user, spawner, now: datetime | None = None) -> LabActivity:
    """Ask one running lab (``spawner`` of ``user``) for its own activity."""
    if not spawner.ready or spawner.server is None:
        raise LabUnreachable(labnotify.NOT_RUNNING)
    token, _ = labnotify.server_scoped_token(user, "idle culling: is the lab busy", spawner)
    base = spawner.server.url.rstrip("/") + "/api/"
    client = labnotify.http_client(3)
    try:
        answers = await asyncio.gather(
            *(_get(client, base + path, token) for path in ("status", "kernels", "terminals")),
        )
    finally:
        client.close()
    status, kernels, terminals = answers
    return read(
        status if isinstance(status, dict) else {},
        kernels if isinstance(kernels, list) else [],
        terminals if isinstance(terminals, list) else [],
        now or dl.utcnow(),
    )


async def _get(client, url: str, token: str):
    try:
        response = await client.fetch(
            HTTPRequest(
                url + "?no_track_activity=1",
                headers={"Authorization": f"token {token}"},
                connect_timeout=TIMEOUT,
                request_timeout=TIMEOUT,
                follow_redirects=False,
            )
        )
    except HTTPClientError as exc:
        if exc.code == 404 and url.endswith("/terminals"):
            return []  # terminals switched off in this lab
        raise LabUnreachable(
            labnotify.NOT_RESPONDING if exc.code == 599 else f"the lab answered HTTP {exc.code}"
        ) from None
    except (OSError, asyncio.TimeoutError) as exc:
        raise LabUnreachable(labnotify.NOT_RESPONDING) from exc
    try:
        return json.loads(response.body)
    except ValueError:
        raise LabUnreachable(labnotify.UNEXPECTED_ANSWER) from None


def record(user, spawner, activity: LabActivity) -> datetime | None:
    """Take the lab's activity into the hub's record when it is newer (as JupyterHub's activity
    API does: the server's and the user's last activity); the server's last activity after."""
    orm = spawner.orm_spawner
    newest = activity.last_activity
    if newest is not None and (orm.last_activity is None or newest > orm.last_activity):
        orm.last_activity = newest
        if user.orm_user.last_activity is None or newest > user.orm_user.last_activity:
            user.orm_user.last_activity = newest
        user.db.commit()
    return orm.last_activity
