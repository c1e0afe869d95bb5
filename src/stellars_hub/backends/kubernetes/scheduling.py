"""A lab the cluster cannot place is said to its user at once, not after the start timeout.

On Kubernetes the scheduler decides where (and whether) a lab runs. A pod that asks for more
than any node has stays Pending with a ``FailedScheduling`` event ("0/1 nodes are available: 1
Insufficient memory") until JupyterHub gives up on it. While the pod waits for the scheduler,
this compares what it asks for with what each node can give: when no node could ever hold it,
the start fails at once with a message saying so. When nodes could hold it but are full now (a
cluster autoscaler may add one, other labs may stop), the start keeps waiting, and ends a
moment before the start timeout with the scheduler's reason instead of a bare timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from jupyterhub.spawner import SpawnException

from .runtime import parse_quantity

log = logging.getLogger("JupyterHub.stellars")

LOOK_EVERY = 1.0  # seconds between looks at the pod's events
BEFORE_TIMEOUT = 3.0  # seconds before the start timeout at which a still unplaced lab is explained


def pod_requests(pod: dict) -> dict[str, float]:
    """What the pod asks the scheduler for: per resource, the larger of its containers' sum and
    its largest init container (as the scheduler counts)."""
    spec = pod.get("spec") or {}

    def asks(container: dict) -> dict[str, float]:
        requests = (container.get("resources") or {}).get("requests") or {}
        return {k: parse_quantity(v) for k, v in requests.items()}

    total: dict[str, float] = {}
    for c in spec.get("containers") or []:
        for k, v in asks(c).items():
            total[k] = total.get(k, 0.0) + v
    for c in spec.get("initContainers") or spec.get("init_containers") or []:
        for k, v in asks(c).items():
            total[k] = max(total.get(k, 0.0), v)
    return total


def beyond_every_node(requests: dict[str, float], nodes: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """resource -> (asked, the most any node can give) for what no node could ever hold."""
    short = {}
    for resource, asked in requests.items():
        largest = max((n.get(resource, 0.0) for n in nodes), default=0.0)
        if asked > largest:
            short[resource] = (asked, largest)
    return short


def _amount(resource: str, value: float) -> str:
    if resource == "memory" or resource.endswith("storage"):
        return f"{value / 2**30:.1f} GiB"
    return f"{value:g}"


async def _node_capacity(spawner) -> list[dict[str, float]]:
    nodes = await spawner.api.list_node()
    return [{k: parse_quantity(v) for k, v in (n.status.allocatable or {}).items()} for n in nodes.items]


async def _watch(spawner, deadline: float) -> str | None:
    """Why the lab cannot be placed, or None once the scheduler placed it."""
    loop = asyncio.get_running_loop()
    compared = False
    while True:
        await asyncio.sleep(LOOK_EVERY)
        events = spawner.events
        if any(e.get("reason") == "Scheduled" for e in events):
            return None
        failed = [e for e in events if e.get("reason") == "FailedScheduling"]
        if not failed:
            continue
        said = failed[-1].get("message") or ""
        pod = (
            spawner.pod_reflector.pods.get(f"{spawner.namespace}/{spawner.pod_name}") if spawner.pod_reflector else None
        )
        if not compared and pod is not None:
            compared = True
            short = beyond_every_node(pod_requests(pod), await _node_capacity(spawner))
            if short:
                asked = ", ".join(
                    f"{_amount(r, a)} of {r} (the most a node can give: {_amount(r, most)})"
                    for r, (a, most) in short.items()
                )
                # the scheduler's first words may be about something else still settling (claims
                # not bound yet): quoted only when they are about resources
                quoted = f" (The scheduler: {said})" if "Insufficient" in said else ""
                return (
                    f"no node of the cluster can ever hold this lab: it asks for {asked}. Ask your administrator "
                    f"to lower what your group's policy gives or to add a larger node.{quoted}"
                )
        if loop.time() >= deadline:
            return (
                f"no node of the cluster has room for this lab now (the scheduler: {said}). "
                "Try again when other labs have stopped, or ask your administrator."
            )


async def start_or_explain(spawner, start: Awaitable):
    """KubeSpawner's start, ended early with a message when its pod cannot be placed."""
    started = asyncio.ensure_future(start)
    loop = asyncio.get_running_loop()
    watcher = asyncio.ensure_future(_watch(spawner, loop.time() + spawner.start_timeout - BEFORE_TIMEOUT))
    try:
        await asyncio.wait({started, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done() and watcher.done() and not watcher.cancelled():
            try:
                reason = watcher.result()
            except Exception as exc:  # the nodes could not be read: the start goes on as before
                log.warning("Could not tell whether %s's pod fits a node: %s", spawner.user.name, exc)
                reason = None
            if reason:
                started.cancel()
                raise SpawnException(reason, reason="unschedulable", status_code=503)
        return await started
    except asyncio.CancelledError:
        started.cancel()  # JupyterHub gave up on the start: so does KubeSpawner's
        raise
    finally:
        watcher.cancel()
