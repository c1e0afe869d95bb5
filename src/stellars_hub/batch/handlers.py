"""The batch API (preview, run with a streamed progress, status, cancel) and the admin page.

``POST /hub/api/batch`` answers with newline-delimited JSON (``application/x-ndjson``): one
object per step, flushed as it happens, so a client sees each user's progress in one request.
"""

from __future__ import annotations

import asyncio
import json

from tornado import web
from tornado.iostream import StreamClosedError

from .. import labnotify, selfservice
from ..notifications.config import Notifications
from ..web.base import HandlerMixin, StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from ..web.permissions import allowed, allowed_on_group, allowed_on_server, holds_globally
from . import plan, runner
from .config import Batch

SERVER_SCOPE = "servers"  # start/stop/restart someone's server: JupyterHub's own scope


def server_detail(target: str) -> dict:
    """The audit field naming a named server (nothing for a default server, as before)."""
    server = plan.split(target)[1]
    return {"server": server} if server else {}


class BatchMixin(HandlerMixin):
    def resolve(self, body) -> tuple[plan.Request, list[dict]]:
        """The request and, per target server, whether the action applies. The permission comes
        first, judged on the request as written, with one refusal for every case: nothing about
        who exists, who belongs to a group or whose lab runs reaches a caller not allowed to ask."""
        try:
            req = plan.parse(body)
        except plan.BadRequest as exc:
            raise http_error(400, str(exc)) from None
        if not self.may_name(req):
            raise self.refusal()
        try:
            targets = plan.targets(req, self.db, self.find_user)
        except plan.BadRequest as exc:
            raise http_error(400, str(exc)) from None
        except plan.NoSuchGroup as exc:
            raise http_error(404, str(exc)) from None
        # JupyterHub's rule per server: servers!server=user/name (a filtered scope grants only its own)
        if not all(allowed_on_server(self, SERVER_SCOPE, n, s) for n, s in targets):
            raise self.refusal()
        rows = []
        for name, server in targets:
            reason = plan.skip_reason(req.action, self.find_user(name).spawners[server])
            rows.append(
                {
                    "username": name,
                    "server": server,
                    "target": plan.label(name, server),
                    "applies": reason is None,
                    "reason": reason,
                }
            )
        return req, rows

    def may_name(self, req: plan.Request) -> bool:
        """Whether the caller may act on what the request names, before anything is looked up."""
        if req.users is not None:
            return all(allowed(self, SERVER_SCOPE, n) for n in req.users)
        if req.servers is not None:
            return all(allowed_on_server(self, SERVER_SCOPE, n, s) for n, s in req.servers)
        if req.group is not None:
            return allowed_on_group(self, SERVER_SCOPE, req.group)
        return holds_globally(self, SERVER_SCOPE)  # every running server

    def refusal(self) -> Exception:
        who = self.current_user.name if self.current_user else "anonymous requests"
        return http_error(
            403,
            f"{who} may not control the servers this batch names (needs scope servers on each of them; "
            "a group needs it on the group, all running servers an unfiltered one)",
        )


class BatchPreviewAPIHandler(BatchMixin, StellarsAPIHandler):
    """What a batch would do; changes nothing (POST only because the targets are a body)."""

    async def post(self):
        req, rows = self.resolve(self.json_body())
        self.write_json(
            {
                "action": req.action,
                "users": rows,
                "affected": sum(1 for r in rows if r["applies"]),
                "notify_running": bool(req.notice),
            }
        )


class BatchAPIHandler(BatchMixin, StellarsAPIHandler):
    async def post(self):
        req, rows = self.resolve(self.json_body())
        affected = [r["target"] for r in rows if r["applies"]]
        if not affected:
            why = "; ".join(f"{r['target']}: {r['reason']}" for r in rows[:5])
            raise http_error(409, f"no selected user's server can be {plan.PAST[req.action]} now ({why})")
        actor = self.current_user.name if self.current_user else "(anonymous)"
        batch = runner.register(runner.Batch(actor, req.action, affected))
        self.set_header("Content-Type", "application/x-ndjson")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")  # reverse proxies: pass each line at once
        self._client_gone = False
        limit = min(self.configured(Batch).concurrency, self.settings.get("concurrent_spawn_limit") or 10**6)
        self.audit(",".join(affected), f"batch-{req.action}", "begun", batch=batch.id, users=len(affected))
        await self.send(
            {
                "event": "plan",
                "id": batch.id,
                "action": req.action,
                "concurrency": limit,
                "users": affected,  # labels: user, or user/server for a named server
                "targets": [runner.who(t) for t in affected],
                "skipped": [r for r in rows if not r["applies"]],
            }
        )
        if req.notice:
            await self.notify_first(batch, req)
        user_turns: dict[str, asyncio.Lock] = {}  # one server of a user at a time within the batch
        summary = await runner.run(
            batch, lambda target: self.act(batch, req.action, target, user_turns), limit, self.push
        )
        for target, result in batch.results.items():  # servers the cancel left alone: audited too
            if result["outcome"] == "cancelled":
                self.audit(
                    result["username"], f"batch-{req.action}", "cancelled", batch=batch.id, **server_detail(target)
                )
        await self.send(summary)
        if not self._client_gone:
            self.finish()

    def push(self, event: dict) -> None:
        """Write one line now (lines keep their order) and flush it in the background."""
        if not self._client_gone:
            self.write(json.dumps(event, default=str) + "\n")
            asyncio.ensure_future(self.send_buffer())

    async def send(self, event: dict) -> None:
        self.push(event)
        await self.send_buffer()

    async def send_buffer(self) -> None:
        if self._client_gone:
            return
        try:
            await self.flush()
        except StreamClosedError:
            self._client_gone = True  # the batch goes on; GET /api/batch/<id> has its results

    async def notify_first(self, batch, req) -> None:
        running = []
        for target in batch.users:
            name, server = plan.split(target)
            user = self.find_user(name)
            if user is not None and user.spawners[server].ready:
                running.append((user, user.spawners[server]))
        deliveries = await labnotify.deliver_many(
            running,
            labnotify.payload(req.notice, "warning"),
            timeout=self.configured(Notifications).timeout,
            note="batch notice",
        )
        await self.send(
            {"event": "notified", "deliveries": [d.as_dict() for d in deliveries], "delay_seconds": req.delay_seconds}
        )
        if req.delay_seconds:
            await runner.wait_or_cancel(batch, req.delay_seconds)

    async def act(self, batch, action: str, target: str, user_turns: dict[str, asyncio.Lock]) -> dict | None:
        """One server's action inside its user's lock, with exactly one audit line."""
        name, server = plan.split(target)
        which = server_detail(target)
        user = self.find_user(name)
        detail: dict = {}
        try:
            if user is None:
                raise http_error(404, f"no user named {name!r} any more")
            if server and server not in user.orm_spawners:
                raise http_error(404, f"{name} has no server named {server!r} any more")
            # a user's servers in one batch take turns for the user's lock instead of refusing each other
            async with user_turns.setdefault(name, asyncio.Lock()):
                if action == "restart":  # Restart Server's own: its lock, limit and policy check
                    result = await selfservice.restart_server(self, user, server, action="batch-restart")
                    detail = {"container_id": result["container_id"], "how": result["status"]}
                else:
                    async with self.user_locks.exclusive(name, f"batch-{action}"):
                        spawner = user.spawners[server]
                        reason = plan.skip_reason(action, spawner)  # again, inside the lock
                        if reason:
                            raise http_error(409, reason)
                        if action == "stop":
                            await self.stop_single_user(user, server)
                            await self.finish_pending(spawner, "_stop_future")
                        else:
                            await self.spawn_single_user(user, server)
                            spawner = user.spawners[server]
                            await self.finish_pending(spawner, "_spawn_future")
                            if not spawner.ready:
                                raise RuntimeError("the server did not come up; see the hub's log")
        except Exception as exc:
            reason = getattr(exc, "log_message", None) or str(exc) or type(exc).__name__
            self.audit(name, f"batch-{action}", "failed", batch=batch.id, reason=reason, **which)
            raise
        self.audit(name, f"batch-{action}", "ok", batch=batch.id, **which, **detail)
        return detail

    @staticmethod
    async def finish_pending(spawner, attr: str) -> None:
        """JupyterHub returns from a slow start or stop and finishes it in the background:
        a batch result must mean the work is over."""
        future = getattr(spawner, attr, None)
        if future is not None and not future.done():
            await asyncio.shield(future)
        elif future is not None and future.exception() is not None:
            raise future.exception()


class BatchStatusAPIHandler(StellarsAPIHandler):
    def find_batch(self, batch_id: str) -> runner.Batch:
        if self.current_user is None:
            raise http_error(403, "batches are for logged-in users with scope servers on their users")
        batch = runner.find(batch_id)
        if batch is None:
            raise http_error(404, f"no batch {batch_id!r} (finished batches are kept for 10 minutes)")
        if not all(allowed_on_server(self, SERVER_SCOPE, *plan.split(t)) for t in batch.users):
            raise http_error(403, "you may not see or cancel this batch (needs scope servers on its users)")
        return batch

    async def get(self, batch_id):
        self.write_json(self.find_batch(batch_id).as_dict())


class BatchCancelAPIHandler(BatchStatusAPIHandler):
    async def post(self, batch_id):
        batch = self.find_batch(batch_id)
        if batch.finished_at is not None:
            raise http_error(409, "the batch has already finished")
        batch.cancelled.set()
        self.audit(",".join(batch.users), f"batch-{batch.action}", "cancel-requested", batch=batch.id)
        self.write_json(
            {"id": batch.id, "cancelled": True, "message": "users not begun yet are left alone; those under way finish"}
        )


class BatchPage(StellarsPageHandler):
    @web.authenticated
    async def get(self):
        if "admin-ui" not in self.parsed_scopes:
            raise web.HTTPError(403, "Only administrators may run batch actions")
        from jupyterhub import orm

        groups = [name for (name,) in self.db.query(orm.Group.name).order_by(orm.Group.name)]
        self.finish(await self.render_template("batch.html", batch_groups=groups))
