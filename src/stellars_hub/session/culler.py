"""The idle-culler service process (``python -m stellars_hub.session.culler``).

jupyterhub-idle-culler does the passes (list ready servers, stop the chosen ones through the hub
API); its arbiter hook makes every decision here, with the same deadline computation as the
session-info API (each start's own idle timeout and maximum age included). Before it warns or
stops a lab for idleness, the arbiter has the hub ask the lab itself whether it is busy (a kernel
running code, a terminal in use; session/busy.py), which moves the deadline of a busy lab. The
library's own max-age check is switched off because the arbiter applies the maximum age as part
of that deadline. One log line per decision: culled, spared (kept alive by an extension), busy,
warned.
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
from .sessions import deadline_of
from .store import ExtensionStore

log = logging.getLogger("stellars_hub.session.culler")


class Arbiter:
    """jupyterhub-idle-culler's ``cull_arbiter`` hook: True stops the server."""

    def __init__(self, policy: dl.Policy, store: ExtensionStore, warn, clock=dl.utcnow, ask_lab=None):
        self.policy = policy
        self.store = store
        self.warn = warn  # async (user name, server name) -> the hub's answer to the warning request
        self.clock = clock
        # async (user name, server name) -> the hub's answer after asking the lab itself whether
        # it is busy (busy kernels, terminals in use), with the lab's activity it recorded
        self.ask_lab = ask_lab

    async def deadline(self, username: str, server: dict, last_activity=None) -> dl.Deadline:
        # this server's start: its own limits and extensions (read on the file's thread)
        return await deadline_of(
            self.policy,
            self.store,
            username,
            server.get("name") or "",
            server.get("started"),
            last_activity or server.get("last_activity"),
        )

    async def __call__(self, *, server: dict, **_ignored) -> bool:
        # the library's own ``inactive`` is ignored: the deadline below is the whole rule
        username = server["full_name"].rsplit("/", 1)[0]
        name = server.get("name") or ""  # '' = the default server; each server has its own deadline
        who = f"{username}/{name}" if name else username  # how the log lines name it
        now = self.clock()
        d = await self.deadline(username, server)
        if self.ask_lab is not None and dl.near(self.policy, d, now):
            # before warning or stopping on the hub's record, ask the lab itself
            answer = await self.ask_lab(username, name)
            if answer.get("last_activity"):
                d = await self.deadline(username, server, answer["last_activity"])
                if answer.get("busy"):
                    log.info("busy %s: %s; idle deadline now %s", who, answer.get("reason"), dl.iso(d.at))
            else:
                log.warning("could not ask %s's lab whether it is busy: %s", who, answer.get("reason"))
        decision = dl.decide(d, now)
        if decision == dl.CULL:
            if d.reason == dl.MAX_AGE:
                log.info(
                    "culled %s: maximum age reached at %s (started %s)",
                    who,
                    dl.iso(d.max_age_at),
                    server.get("started"),
                )
            else:
                log.info(
                    "culled %s: idle since %s, deadline %s passed (timeout %d s + %d h extension)",
                    who,
                    dl.iso(d.last_activity),
                    dl.iso(d.at),
                    (d.unextended_at - d.last_activity).total_seconds(),
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


def hub_requester(api_url: str, token: str, route: str, failed: str):
    """Ask the hub to act on one server of a user (it holds the means to reach the user's lab):
    POST ``users/<name>/[servers/<server>/]<route>``; the hub's answer, or ``{failed: False,
    "reason"}`` when it did not give one."""

    async def ask(username: str, server: str = "") -> dict:
        path = f"users/{quote(username, safe='')}/"
        if server:
            path += f"servers/{quote(server, safe='')}/"
        request = HTTPRequest(
            f"{api_url.rstrip('/')}/{path}{route}",
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
            return {failed: False, "reason": f"the hub answered {exc.code}: {detail}"}
        except OSError as exc:
            return {failed: False, "reason": f"the hub did not answer: {exc}"}

    return ask


def warning_requester(api_url: str, token: str):
    """The warning goes into the lab of the server about to be stopped."""
    return hub_requester(api_url, token, "session-warning", "warned")


def activity_requester(api_url: str, token: str):
    """The hub asks the lab whether it is busy and records its activity (``busy.py``)."""
    return hub_requester(api_url, token, "session-activity", "busy")


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
        ask_lab=activity_requester(api_url, token),
    )
    try:
        asyncio.run(run(policy, arbiter, api_url, token))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
