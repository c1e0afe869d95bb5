import asyncio
import json

import pytest

from stellars_hub.errors import BadRequest, Conflict, TimedOut
from stellars_hub.runtime.base import EngineUnavailable, NotFound, RuntimeConflict
from stellars_hub.web import audit
from stellars_hub.web.errors import Busy, RateLimited, translate
from stellars_hub.web.locks import UserLocks
from stellars_hub.web.ratelimit import RateLimiter


async def test_lock_refuses_second_operation_for_same_user_only():
    locks = UserLocks()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def first():
        async with locks.exclusive("ann", "restart-server"):
            entered.set()
            await release.wait()

    task = asyncio.create_task(first())
    await entered.wait()
    with pytest.raises(Busy, match="restart-server is already running for ann"):
        async with locks.exclusive("ann", "reset-volumes"):
            pass
    async with locks.exclusive("bob", "restart-server"):  # other users are not blocked
        assert locks.busy("bob") == "restart-server"
    release.set()
    await task
    assert locks.busy("ann") is None
    async with locks.exclusive("ann", "reset-volumes"):
        pass


async def test_lock_released_on_error():
    locks = UserLocks()
    with pytest.raises(ValueError):
        async with locks.exclusive("ann", "x"):
            raise ValueError
    assert locks.busy("ann") is None


def test_rate_limit_window():
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    limiter.hit("ann")
    limiter.hit("ann")
    with pytest.raises(RateLimited) as err:
        limiter.hit("ann")
    assert err.value.retry_after == 60
    limiter.hit("bob")
    now[0] = 60.0
    limiter.hit("ann")


@pytest.mark.parametrize(
    "exc,status",
    [
        (EngineUnavailable("engine down"), 503),
        (NotFound("x"), 404),
        (RuntimeConflict("x"), 409),
        (Busy("x"), 409),
        (RateLimited("x", 5), 429),
        (BadRequest("x"), 400),
        (Conflict("x"), 409),
        (TimedOut("x"), 504),
    ],
)
def test_error_translation(exc, status):
    err = translate(exc)
    assert err.status_code == status
    if status == 429:
        assert err.headers["Retry-After"] == "5"


def test_translate_leaves_unknown_errors_alone():
    assert translate(KeyError("x")) is None


def test_translation_keeps_the_message_as_is():
    assert translate(Conflict("ann's server is running; stop it first")).log_message == (
        "ann's server is running; stop it first"
    )


def test_only_the_web_layer_builds_http_errors():
    # logic modules raise domain errors; HTTP statuses are chosen in web/errors.py alone
    import pathlib

    import stellars_hub

    root = pathlib.Path(stellars_hub.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.parent.name != "web"
        and p.name not in ("handlers.py", "api.py", "pages.py", "authorization.py", "logins.py")
        and ("http_error" in p.read_text() or "web.HTTPError" in p.read_text())
    ]
    # the exceptions answer inside JupyterHub's own handlers, which show only HTTP errors'
    # messages: the authenticator's name refusal, the configured admin's guard
    # (Authenticator.delete_user), a lab that dies while starting (Spawner.start), a start
    # asking for a profile it may not have (Spawner.apply_user_options) and the hub
    # database's full disk or lock (hubdb: SQLAlchemy's handle_error event)
    assert set(offenders) <= {
        "accounts/authenticator.py",
        "accounts/adminguard.py",
        "backends/docker/spawner.py",
        "policies/spawnoptions.py",
        "hubdb.py",
    }


def test_audit_line(tmp_path):
    path = tmp_path / "audit.log"
    audit.configure(str(path))
    audit.record("admin", "ann", "restart-server", "ok", container_id="abc")
    line = json.loads(path.read_text().strip().splitlines()[-1])
    assert line["actor"] == "admin" and line["target"] == "ann" and line["action"] == "restart-server"
    assert line["outcome"] == "ok" and line["container_id"] == "abc" and "time" in line
