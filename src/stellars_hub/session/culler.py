"""The idle-culler service process (``python -m stellars_hub.session.culler``).

jupyterhub-idle-culler does the passes (list ready servers, stop the chosen ones through the hub
API); its arbiter hook makes every decision here, with the same deadline computation as the
session-info API. The library's own max-age check is switched off because the arbiter applies
the maximum age as part of that deadline. One log line per decision: culled, spared (kept alive
by an extension), warned.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from urllib.parse import quote

from jupyterhub_idle_culler import cull_idle
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .. import settings as settings_mod
from ..hubsettings import StellarsHub
from . import deadline as dl
from .config import IdleCuller
from .store import ExtensionStore

log = logging.getLogger("stellars_hub.session.culler")


class Arbiter:
    """jupyterhub-idle-culler's ``cull_arbiter`` hook: True stops the server."""

    def __init__(self, policy: dl.Policy, store: ExtensionStore, warn, clock=dl.utcnow):
        self.policy = policy
        self.store = store
        self.warn = warn  # async (user name, server name) -> the hub's answer to the warning request
        self.clock = clock

    async def deadline(self, username: str, server: dict) -> dl.Deadline:
        # extensions belong to this server's current start (read on the file's thread)
        hours = await self.store.hours(username, server.get("started"), server.get("name") or "")
        return dl.compute(
            self.policy,
            last_activity=server.get("last_activity"),
            started=server.get("started"),
            extension_hours=hours,
        )

    async def __call__(self, *, server: dict, **_ignored) -> bool:
        # the library's own ``inactive`` is ignored: the deadline below is the whole rule
        username = server["full_name"].rsplit("/", 1)[0]
        name = server.get("name") or ""  # '' = the default server; each server has its own deadline
        who = f"{username}/{name}" if name else username  # how the log lines name it
        now = self.clock()
        d = await self.deadline(username, server)
        decision = dl.decide(d, now)
        if decision == dl.CULL:
            if d.reason == dl.MAX_AGE:
                log.info(
                    "culled %s: maximum age %d s reached (started %s)",
                    who,
                    self.policy.max_age,
                    server.get("started"),
                )
            else:
                log.info(
                    "culled %s: idle since %s, deadline %s passed (timeout %d s + %d h extension)",
                    who,
                    dl.iso(d.last_activity),
                    dl.iso(d.at),
                    self.policy.timeout,
                    d.extension_hours,
                )
            return True
        if decision == dl.SPARE:
            log.info(
                "spared %s: idle past %s, extended by %d h until %s",
                who,
                dl.iso(d.unextended_at),
                d.extension_hours,
                dl.iso(d.at),
            )
        if dl.warning_due(self.policy, d.remaining(now)):
            answer = await self.warn(username, name)
            if answer.get("warned"):
                log.info("warned %s: stop due at %s (%s)", who, answer.get("deadline"), answer.get("stop_reason"))
            elif answer.get("reason") not in ("not due", "already warned for this deadline"):
                log.warning("warning %s failed: %s", who, answer.get("reason"))
        return False


def warning_requester(api_url: str, token: str):
    """Ask the hub to deliver the warning (it holds the means to reach the user's lab): into the
    lab of the server about to be stopped, a named one through its own route."""

    async def warn(username: str, server: str = "") -> dict:
        path = f"users/{quote(username, safe='')}/"
        if server:
            path += f"servers/{quote(server, safe='')}/"
        request = HTTPRequest(
            f"{api_url.rstrip('/')}/{path}session-warning",
            method="POST",
            body="{}",
            headers={"Authorization": f"token {token}"},
            request_timeout=30,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
            return json.loads(response.body)
        except HTTPClientError as exc:
            detail = exc.response.body.decode(errors="replace") if exc.response is not None else str(exc)
            return {"warned": False, "reason": f"the hub answered {exc.code}: {detail}"}
        except OSError as exc:
            return {"warned": False, "reason": f"the hub did not answer: {exc}"}

    return warn


async def run(policy: dl.Policy, arbiter: Arbiter, api_url: str, token: str) -> None:
    library_log = logging.getLogger("jupyterhub_idle_culler")
    library_log.setLevel(logging.WARNING)  # its "Culling server" lines would repeat ours
    log.info(
        "idle culler: timeout %d s, every %d s, max age %d s, warning %d s before, up to %d h extension",
        policy.timeout,
        policy.interval,
        policy.max_age,
        policy.warning,
        policy.max_extension_hours,
    )
    while True:
        try:
            await cull_idle(
                url=api_url,
                api_token=token,
                inactive_limit=policy.timeout,
                logger=library_log,
                max_age=0,
                cull_arbiter=arbiter,
                concurrency=10,
            )
        except Exception:
            log.exception("culler pass failed; trying again in %d s", policy.interval)
        await asyncio.sleep(policy.interval)


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="[%(levelname).1s %(asctime)s idle-culler] %(message)s"
    )
    s = settings_mod.load([StellarsHub, IdleCuller])  # from the variables the hub passed
    policy = dl.Policy.from_config(s(IdleCuller))
    api_url = os.environ["JUPYTERHUB_API_URL"]
    token = os.environ["JUPYTERHUB_API_TOKEN"]
    arbiter = Arbiter(
        policy,
        ExtensionStore(Path(s(StellarsHub).data_dir) / ExtensionStore.FILE_NAME),
        warning_requester(api_url, token),
    )
    try:
        asyncio.run(run(policy, arbiter, api_url, token))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
