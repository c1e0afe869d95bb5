"""Lab networks from the platform's own address pool (Docker, ``JUPYTERHUB_LAB_NETWORK_ISOLATION=1``).

Left to itself the engine gives every new bridge network one of its default address pools
(172.17-31.0.0/16 and 192.168.0.0/16 in /20s: about 30 networks), and the lab after that fails.
Here each lab network gets a small subnet of ``JUPYTERHUB_LAB_SUBNET_POOL`` instead: a /28 holds
the gateway, the hub's container and a dozen of the user's labs, and a /16 holds 4096 of them.

The engine is the arbiter: a subnet is chosen from its own list of networks and the engine
refuses one that overlaps (another hub, another start a moment earlier), so the next free one
is tried. Every engine call goes through ``call(method, *args, **kwargs)``, an awaitable running
one ``docker.APIClient`` method off the event loop (the spawner's ``docker``, the runtime's;
the runtime's raises its ``NotFound``/``RuntimeConflict`` for the engine's 404/409).

Networks carry ``LABEL`` and the hub's id (``HUB_LABEL``): after every stop and at hub start the
platform's reconcile step removes this hub's networks that no lab is on (``remove_unless_used``).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Network

from docker.errors import APIError
from docker.types import IPAMConfig, IPAMPool
from jupyterhub.spawner import SpawnException

from ...lab.config import Labs, NamedServers
from ...lab.spec import SPEC_LABEL
from ...runtime.base import HUB_LABEL, NotFound, RuntimeConflict
from ...settings import LONGEST_SUBNET_PREFIX, parse_subnets

LABEL = "stellars.lab-network"  # value: the user's name
LARGEST_PREFIX = LONGEST_SUBNET_PREFIX  # 16 addresses: network, broadcast, gateway, the hub, up to 12 labs of a user

Call = Callable[..., Awaitable]

log = logging.getLogger("JupyterHub.stellars")


class LabNetworkUnavailable(SpawnException):
    """No network for this lab: the user reads the message on the spawn page / in the API answer."""

    def __init__(self, message: str):
        super().__init__(message, reason="lab-network", status_code=503)


def parse_pool(text: str) -> tuple[IPv4Network, ...]:
    """``10.213.0.0/16`` or several, comma-separated; ValueError naming what is wrong (the rules
    of the setting ``JUPYTERHUB_LAB_SUBNET_POOL``, whose trait type checks the same text)."""
    return parse_subnets(text, LARGEST_PREFIX)


def subnet_prefix(named_servers: bool, named_limit: int) -> int:
    """The smallest subnet that holds the gateway, the hub and all of one user's labs (a user's
    named servers share the user's network), never smaller than a /28."""
    if named_servers and named_limit == 0:
        return 24  # no limit on named servers: room for 252 labs of one user
    labs = 1 + (named_limit if named_servers else 0)
    addresses = labs + 4  # network, broadcast, gateway, the hub's container
    return min(LARGEST_PREFIX, 32 - math.ceil(math.log2(addresses)))


@dataclass(frozen=True)
class Pool:
    ranges: tuple[IPv4Network, ...]
    prefix: int = LARGEST_PREFIX

    @classmethod
    def parse(cls, text: str, prefix: int = LARGEST_PREFIX) -> Pool:
        ranges = parse_pool(text)
        return cls(ranges, max(prefix, max(r.prefixlen for r in ranges)))

    @property
    def size(self) -> int:
        """How many lab networks the pool holds."""
        return sum(2 ** (self.prefix - r.prefixlen) for r in self.ranges)

    def describe(self) -> str:
        return f"{', '.join(map(str, self.ranges))} ({self.size} networks of /{self.prefix})"

    def overlaps(self, net: IPv4Network) -> bool:
        return any(r.overlaps(net) for r in self.ranges)

    def free(self, used: Iterable[IPv4Network]) -> Iterator[IPv4Network]:
        """The pool's subnets, in order, that overlap none of ``used``. Each used network marks
        the span of subnets it touches, so the walk costs the networks plus the subnets skipped."""
        step = 2 ** (32 - self.prefix)
        for r in self.ranges:
            base, count = int(r.network_address), 2 ** (self.prefix - r.prefixlen)
            taken: set[int] = set()
            for u in used:
                if not u.overlaps(r):
                    continue
                first = max(int(u.network_address), base) - base
                last = min(int(u.broadcast_address), int(r.broadcast_address)) - base
                taken.update(range(first // step, last // step + 1))
            for i in range(count):
                if i not in taken:
                    yield IPv4Network((base + i * step, self.prefix))


def pool_from(labs: Labs, named: NamedServers) -> Pool:
    """The pool of the hub's settings (``c.Labs``, ``c.NamedServers``)."""
    return Pool.parse(labs.subnet_pool, subnet_prefix(named.enabled, named.limit))


def own_networks(labs: Labs) -> bool:
    """Whether each lab gets a network of its own (from the pool) under these settings."""
    return labs.network_isolation and labs.network_name not in ("host", "bridge")


def hub_container_name() -> str:
    """The hub's own container when it runs in one (the spawner's ``hub_container`` default)."""
    return socket.gethostname() if os.path.exists("/.dockerenv") else ""


@dataclass
class NetworkStatus:
    """What the hub's readiness says about lab networks: a start that got none (until a later
    start gets one) and networks of the engine that overlap the pool (checked at hub start)."""

    failure: str = ""
    overlaps: list[str] = field(default_factory=list)
    pool: str = ""

    def warnings(self, detailed: bool = True) -> dict[str, str]:
        """``detailed`` False (an anonymous caller of readiness): the overlaps only, a matter of
        the configuration; a start's failure (a used-up pool tells how many labs run) is not."""
        found = {}
        if self.failure and detailed:
            found["lab_networks"] = f"a lab could not start: {self.failure}"
        elif self.overlaps:
            found["lab_networks"] = (
                f"JUPYTERHUB_LAB_SUBNET_POOL ({self.pool}) overlaps networks that are no lab networks: "
                f"{', '.join(self.overlaps)}; their addresses are skipped. Give the pool a range of its own."
            )
        return found


def subnets_of(network: dict) -> list[IPv4Network]:
    """The IPv4 subnets of one network of the engine's list."""
    found = []
    for cfg in (network.get("IPAM") or {}).get("Config") or []:
        try:
            net = ipaddress.ip_network(cfg.get("Subnet") or "", strict=False)
        except ValueError:
            continue
        if isinstance(net, IPv4Network):
            found.append(net)
    return found


def is_lab_network(network: dict) -> bool:
    return LABEL in (network.get("Labels") or {})


async def ensure_network(
    call: Call, name: str, pool: Pool, labels: dict[str, str], status: NetworkStatus | None = None
) -> str | None:
    """Create the bridge network ``name`` on a free subnet of ``pool`` unless it exists; the
    subnet taken (None: it existed). Raises LabNetworkUnavailable with what to do, and says so
    in ``status`` until a later call gets a network."""
    status = status if status is not None else NetworkStatus()
    try:
        found = await _ensure(call, name, pool, labels)
    except LabNetworkUnavailable as exc:
        status.failure = exc.message
        raise
    status.failure = ""
    return found


async def _ensure(call: Call, name: str, pool: Pool, labels: dict[str, str]) -> str | None:
    networks = await call("networks")
    if any(n.get("Name") == name for n in networks):
        return None
    used = [net for n in networks for net in subnets_of(n)]
    for subnet in pool.free(used):
        try:
            await call(
                "create_network",
                name,
                driver="bridge",
                check_duplicate=True,
                labels={LABEL: "", **labels},
                ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet))]),
            )
            return str(subnet)
        except APIError as exc:
            reason = str(exc.explanation or exc)
            if "overlap" in reason.lower():
                continue  # taken a moment ago (another start, another hub): the next one
            if exc.status_code == 409 or "already exists" in reason:
                return None  # the same network, created meanwhile
            raise LabNetworkUnavailable(
                f"the lab's network could not be created: the Docker engine refused ({reason}). "
                "Ask your administrator; the hub's readiness page says more."
            ) from exc
    raise LabNetworkUnavailable(
        f"no network is free for a new lab: the pool of lab networks JUPYTERHUB_LAB_SUBNET_POOL "
        f"({pool.describe()}) is used up. A lab can start once another stops; ask your administrator "
        "to give the pool a larger range."
    )


def foreign_overlaps(pool: Pool, networks: list[dict]) -> list[str]:
    """Networks that are no lab network but hold addresses of the pool (their subnets are
    skipped; a LAN route or VPN of the same range would not show here)."""
    found = []
    for n in networks:
        if is_lab_network(n):
            continue
        for net in subnets_of(n):
            if pool.overlaps(net):
                found.append(f"{n.get('Name')} ({net})")
    return found


async def remove_unless_used(call: Call, name: str) -> bool:
    """Remove lab network ``name`` once no lab is on it (a user's named servers share one); a
    container on it that is no lab (the hub's own) is taken off first. False: gone already, or
    a lab is on it (it stays, for that lab). The one removal of a lab network: the platform's
    post-stop step and its start-up check both come here (reconcile/)."""
    try:
        attached = list(((await call("inspect_network", name)).get("Containers") or {}).keys())
        for cid in attached:
            if await _is_lab(call, cid):
                return False
        for cid in attached:
            await call("disconnect_container_from_network", cid, name, force=True)
        await call("remove_network", name)
        return True
    except NotFound:
        return False
    except (APIError, RuntimeConflict) as exc:  # a lab joined it meanwhile
        log.info("Lab network %s kept: %s", name, getattr(exc, "explanation", None) or exc)
        return False


async def _is_lab(call: Call, container: str) -> bool:
    try:
        labels = (await call("inspect_container", container)).get("Config", {}).get("Labels") or {}
    except NotFound:
        return False
    return SPEC_LABEL in labels or HUB_LABEL in labels
