"""When a running lab will be stopped: the one computation shared by the session-info API, the
home-page card and the culler's decision.

Everything here works on naive UTC datetimes, the way JupyterHub stores them; values from the
REST API (ISO strings ending in Z) or aware datetimes are converted first, so comparisons are
always like with like.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, overload

import dateutil.parser

IDLE = "idle"
MAX_AGE = "max-age"
NEVER = datetime.max  # the deadline of a server under no limit at all (a group's idle timeout 0)


@overload
def naive_utc(value: None) -> None: ...
@overload
def naive_utc(value: datetime) -> datetime: ...
@overload
def naive_utc(value: Any) -> datetime | None: ...


def naive_utc(value) -> datetime | None:
    """A datetime, an ISO 8601 string or None -> a naive UTC datetime (or None)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dateutil.parser.isoparse(value)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    """Naive UTC -> ISO 8601 with Z, as JupyterHub's API writes timestamps (None: never)."""
    return None if value is None or value == NEVER else value.isoformat() + "Z"


def start_key(started) -> str:
    """Identifies one server start: a new start has a new ``started`` time."""
    return naive_utc(started).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Policy:
    """The culling rules, from the JUPYTERHUB_IDLE_CULLER_* settings."""

    enabled: bool
    timeout: int  # seconds of idleness before a stop (0: never for idleness, a group's choice)
    interval: int  # seconds between culler passes
    max_age: int  # seconds; 0 = no age limit
    max_extension_hours: int  # per server start
    warning: int  # seconds of notice before a stop; 0 = none
    hour_seconds: int = 3600  # length of one extension hour

    def for_start(self, timeout: int | None, max_age: int | None) -> Policy:
        """The rules of one server start: its own idle timeout and maximum age (its user's group
        policy, or the site's GPU defaults, recorded when it started; None keeps the site's)."""
        return replace(
            self,
            timeout=self.timeout if timeout is None else timeout,
            max_age=self.max_age if max_age is None else max_age,
        )

    @classmethod
    def from_config(cls, culler) -> Policy:
        """From the hub's ``IdleCuller`` settings."""
        return cls(
            enabled=culler.enabled,
            timeout=culler.timeout,
            interval=culler.interval,
            max_age=culler.max_age,
            max_extension_hours=culler.max_extension,
            warning=culler.warning,
            hour_seconds=culler.hour_seconds,
        )


@dataclass(frozen=True)
class Deadline:
    at: datetime  # when the culler stops the server: the earlier of the two below
    reason: str  # IDLE or MAX_AGE: which limit ``at`` comes from
    idle_at: datetime  # last activity + timeout + extensions
    unextended_at: datetime  # last activity + timeout (what it would be without extensions)
    max_age_at: datetime | None  # started + max age, or None when there is no age limit
    last_activity: datetime
    extension_hours: int

    def remaining(self, now: datetime) -> float:
        """Seconds until the stop; negative once it is due (infinite: never)."""
        if self.at == NEVER:
            return float("inf")
        return (self.at - naive_utc(now)).total_seconds()

    @property
    def never(self) -> bool:
        return self.at == NEVER

    @property
    def extended(self) -> bool:
        return self.idle_at > self.unextended_at


def compute(policy: Policy, *, last_activity, started, extension_hours: int) -> Deadline:
    """The deadline of a running server.

    ``last_activity`` is the server's own last activity (never the user's hub-page visits);
    a server with no recorded activity yet counts from its start. Extensions postpone only the
    idle limit: the maximum age is a hard limit.
    """
    started = naive_utc(started)
    last = naive_utc(last_activity) or started
    if last is None:
        raise ValueError("a running server has a start time")
    if policy.timeout:
        unextended = last + timedelta(seconds=policy.timeout)
        idle_at = unextended + timedelta(seconds=extension_hours * policy.hour_seconds)
    else:  # no idle limit for this start
        unextended = idle_at = NEVER
    max_age_at = started + timedelta(seconds=policy.max_age) if policy.max_age and started else None
    if max_age_at is not None and max_age_at < idle_at:
        at, reason = max_age_at, MAX_AGE
    else:
        at, reason = idle_at, IDLE
    return Deadline(at, reason, idle_at, unextended, max_age_at, last, extension_hours)


def warning_due(policy: Policy, remaining: float) -> bool:
    """Warn at the last pass that still comes at least ``policy.warning`` before the stop:
    when the next pass would already be inside the notice period."""
    return policy.warning > 0 and 0 < remaining <= policy.warning + policy.interval


def near(policy: Policy, d: Deadline, now: datetime) -> bool:
    """Whether an idle deadline is due or close enough to warn about: the moment to ask the lab
    itself whether it is busy before acting on the hub's record of its activity."""
    return d.reason == IDLE and not d.never and d.remaining(now) <= max(policy.warning, 0) + policy.interval


# Decisions of one culler pass for one server
CULL = "cull"
SPARE = "spare"  # past the unextended deadline, kept alive by an extension
KEEP = "keep"


def decide(deadline: Deadline, now: datetime) -> str:
    now = naive_utc(now)
    if now >= deadline.at:
        return CULL
    if deadline.extended and now >= deadline.unextended_at:
        return SPARE
    return KEEP
