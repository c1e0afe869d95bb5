"""StellarsSpawner: DockerSpawner carrying the platform's lab (``LabSpawnerMixin``): one container
``jupyterlab-{escaped name}`` per server (``--{server}`` for a named one) with its spec rendered
as Docker's host config, on a network of its own, started a few at a time."""

from __future__ import annotations

import asyncio
import inspect
import re

import docker
from docker.errors import APIError
from dockerspawner import DockerSpawner
from requests.exceptions import ConnectionError as RequestsConnectionError
from tornado import web
from traitlets import Bool, Integer, Unicode, default

from ... import naming
from ...hubsettings import StellarsHub
from ...lab.config import NamedServers
from ...lab.mixin import LabSpawnerMixin
from ...lab.spec import LabSpec
from ...labwait import wait_until_answering
from ...platform import Platform
from ...runtime.base import HUB_LABEL
from . import hostconfig, labnet
from .labhost import LabHost

ENGINE_UNREACHABLE = (RequestsConnectionError, ConnectionError, FileNotFoundError)


class StellarsSpawner(LabSpawnerMixin, DockerSpawner):
    lab_network_base = Unicode(
        config=True,
        help="The labs' Docker network, or its name prefix with network_per_lab (default: c.Labs.network_name)",
    )
    network_per_lab = Bool(
        config=True,
        help="""Each lab on its own bridge network
        ``{lab_network_base}-{escaped name}``, created at start and removed at stop, so labs cannot
        reach each other; the hub joins each one (alias ``hub_alias``) when it runs in a container
        (default: c.Labs.network_isolation, never with host networking).""",
    )
    hub_alias = Unicode(
        config=True, help="Name labs reach the hub by on their network (default: c.StellarsHub.hub_host)"
    )
    hub_container = Unicode(config=True, help="The hub's own container (empty: the hub is not in one)")
    starts_at_once = Integer(
        config=True, help="Labs starting at once; later starts wait their turn (default: c.Labs.starts_at_once)"
    )

    @property
    def lab_host(self) -> LabHost:
        return Platform.current().runtime.lab_host  # type: ignore[attr-defined]

    @default("hub_container")
    def _hub_container_default(self):
        return labnet.hub_container_name()

    @default("lab_network_base")
    def _lab_network_base_default(self):
        return self.labs.network_name

    @default("network_per_lab")
    def _network_per_lab_default(self):
        return self.labs.network_isolation and self.labs.network_name != "host"

    @default("hub_alias")
    def _hub_alias_default(self):
        return StellarsHub(config=self.config).hub_host

    @default("network_name")
    def _network_name_default(self):
        if self.network_per_lab and self.lab_network_base not in ("host", "bridge"):
            return f"{self.lab_network_base}-{self.escaped_name}"
        return self.lab_network_base

    @default("starts_at_once")
    def _starts_at_once_default(self):
        return self.labs.starts_at_once

    @default("use_internal_ip")
    def _use_internal_ip_default(self):
        return True  # labs are reached on their network (or loopback), never via published ports

    @default("escape")
    def _escape_default(self):
        return naming.escape_name

    @default("name_template")
    def _name_template_default(self):
        # a named server gets its own container: jupyterlab-{username}--{servername}
        suffix = naming.SERVER_SEPARATOR + "{servername}" if self.name else ""
        return naming.CONTAINER_PREFIX + "{username}" + suffix

    @default("remove")
    def _remove_default(self):
        return True  # containers go on stop; named volumes stay

    @default("volumes")
    def _volumes_default(self):
        return {}  # the lab's own volumes come with its spec; a site may add its own here

    @default("extra_host_config")
    def _extra_host_config_default(self):
        # Self-service restart uses the engine's own restart, which an auto-removing container
        # would not survive; stop() removes the container explicitly instead (remove=True).
        # init: the engine's tiny init is PID 1 and forwards the stop signal, so a lab stopped
        # while still importing (PID 1 ignores SIGTERM until it installs a handler) stops at
        # once instead of after the whole stop timeout.
        return {"auto_remove": False, "init": True}

    def spec_environment(self, spec: LabSpec) -> dict[str, str]:
        return hostconfig.render(spec).env

    _joined_network = False

    async def poll(self):
        if self.owns_network and self.hub_container and not self._joined_network and self.container_id:
            # a recreated hub container (image update) is not on the networks of running labs yet
            try:
                await self.ensure_lab_network()
                self._joined_network = True
            except APIError as exc:
                self.log.warning("Could not join the network of %s's lab: %s", self.user.name, exc)
            except ENGINE_UNREACHABLE:
                pass  # said below, by the poll itself
        try:
            return await super().poll()
        except ENGINE_UNREACHABLE as exc:
            # the engine does not answer, the lab may well: keep taking it for running rather
            # than fail every page that polls (JupyterHub's home page) or drop a live lab
            self.log.warning("Cannot poll %s: the container engine does not answer (%s)", self._log_name, exc)
            return None

    @property
    def host_network(self) -> bool:
        return self.network_name == "host"

    async def create_object(self):
        """DockerSpawner's create, with this start's spec on top of the configured traits (which
        are back in place afterwards, so the next start begins from them)."""
        lab = hostconfig.render(self.spec())
        configured_volumes, configured_host = self.volumes, self.extra_host_config
        configured_create, configured_cpu = self.extra_create_kwargs, self.cpu_limit
        host = self._eval_if_callable(configured_host)
        if inspect.isawaitable(host):
            host = await host
        create = self._eval_if_callable(configured_create)
        if inspect.isawaitable(create):
            create = await create
        extra = dict(lab.host_config)
        if self.network_per_lab and not self.hub_container:
            # the hub runs on the host: labs reach it through their own network's gateway
            extra.setdefault("extra_hosts", {self.hub_alias: "host-gateway"})
        if self.labs.cpu_shares:
            extra["cpu_shares"] = self.labs.cpu_shares  # below the hub's weight: see JUPYTERHUB_LAB_CPU_SHARES
        try:
            self.volumes = {**configured_volumes, **lab.binds}
            self.extra_host_config = {**host, **extra}
            if "nano_cpus" in extra:
                self.cpu_limit = None  # DockerSpawner would add a CPU period the engine refuses beside NanoCpus
            labels = {**create.get("labels", {}), **lab.labels, HUB_LABEL: Platform.current().hub_id}
            self.extra_create_kwargs = {**create, "labels": labels}
            return await super().create_object()
        finally:
            self.volumes, self.extra_host_config = configured_volumes, configured_host
            self.extra_create_kwargs, self.cpu_limit = configured_create, configured_cpu

    async def start_object(self):
        try:
            return await super().start_object()
        except APIError as exc:
            reason = str(exc.explanation or exc)
            if self.spec().gpus and re.search(r"device driver|nvidia|gpu", reason, re.I):
                # Docker only says "could not select device driver"; say what it means here
                raise RuntimeError(
                    f"the lab container could not start with a GPU ({reason}). GPUs are enabled "
                    "(JUPYTERHUB_GPU_ENABLED) but the Docker host has no usable NVIDIA runtime or GPU; "
                    "ask your administrator (0 turns GPUs off, 2 detects them at start-up)."
                ) from exc
            raise

    # -- the lab's own network ----------------------------------------------------------------
    @property
    def owns_network(self) -> bool:
        return self.network_per_lab and self.network_name != self.lab_network_base

    async def engine_hub_container(self) -> str:
        """The hub's container when this engine runs it ('' when the hub is on the host or in a
        container of another engine, e.g. a development container next to the engine)."""
        name, known = self.hub_container, self.lab_host.hub_containers
        if name and name not in known:
            try:
                await self.docker("inspect_container", name)
                known[name] = True
            except APIError as exc:
                if exc.status_code != 404:
                    raise
                self.log.info(
                    "The hub is not a container of this engine (%s); labs reach it through their gateway", name
                )
                known[name] = False
        return name if name and known[name] else ""

    async def ensure_lab_network(self) -> None:
        name = self.network_name
        if self.hub_container and not await self.engine_hub_container():
            self.hub_container = ""
        # a small subnet of the platform's own pool, not one of the engine's ~30 default pools
        pool = labnet.pool_from(self.labs, NamedServers(config=self.config))
        await labnet.ensure_network(
            self.docker,
            name,
            pool,
            # the hub's id: its start-up check finds this hub's networks by it (reconcile/strays.py)
            {labnet.LABEL: self.user.name, HUB_LABEL: Platform.current().hub_id},
            self.lab_host.network_status,
        )
        if self.hub_container:
            try:
                await self.docker("connect_container_to_network", self.hub_container, name, aliases=[self.hub_alias])
            except APIError as exc:
                if "already exists" not in str(exc):
                    raise

    @property
    def lab_network(self) -> str:
        """The lab's own network (the platform's post-stop step removes it once no lab is on it)."""
        return self.network_name if self.owns_network else ""

    # -- start and stop -----------------------------------------------------------------------
    waiting_for_turn = False

    async def start(self):
        self.spec()  # no start without one
        if self.owns_network:
            await self.ensure_lab_network()
        if self.host_network:
            # every lab shares the host's ports: give each start a free one, loopback only
            self.ip = "127.0.0.1"
            self.port = self.lab_host.free_host_port(self.lab_name)
        queue = await self.lab_host.start_queue(self.starts_at_once, Platform.current().runtime.cpu_count, self.log)
        configured_image = self.image
        # this start's image (a chosen profile's); the configured one is back for the next start
        self.image = self.spec().image or configured_image
        try:
            async with queue.turn(self):
                ip, port = await super().start()
                await self._wait_for_lab(ip, port)
        finally:
            self.image = configured_image
        return ip, port

    async def progress(self):
        """The spawn page's progress: whether this start waits for its turn (JupyterHub ends
        the stream when the start is over)."""
        said = None
        while self._spawn_pending:
            if self.waiting_for_turn:
                waiting = self.lab_host.queue.waiting if self.lab_host.queue else 0
                message = f"Waiting for other labs to start first ({waiting} waiting)"
            else:
                message = "Starting the lab" if said else None
            if message and message != said:
                yield {"progress": 10 if self.waiting_for_turn else 50, "message": message}
                said = message
            await asyncio.sleep(0.5)

    async def _wait_for_lab(self, ip, port) -> None:
        """Return once the lab answers, so JupyterHub's own wait (whose backoff looks up to
        5 s apart) finds it at its first look. A lab that never answers is left to that wait
        and its http_timeout; a container that exits ends the wait at once."""
        if self.internal_ssl or self.server is None:
            return  # the hub's wait knows the certificates; ours would not
        host = f"[{ip}]" if ":" in ip else ip
        url = f"http://{host}:{port}{self.server.base_url}api"

        async def alive():
            return await super(StellarsSpawner, self).poll() is None

        # a 404 is some other server on this port (another lab whose URLs differ), not ours
        if await wait_until_answering(
            url, self.http_timeout, alive=alive, answered=lambda code: code < 500 and code != 404, address=(ip, port)
        ):
            return
        status = await super().poll()
        if status is not None:  # the lab is gone: say so now rather than after http_timeout
            try:
                tail = (await self.docker("logs", self.container_id, tail=3)).decode(errors="replace").strip()
            except Exception:
                tail = ""
            # an HTTP error: JupyterHub shows its message to whoever started the lab (a plain
            # exception of a spawn that fails fast reaches an API caller as a bare 500)
            raise web.HTTPError(
                500,
                f"the lab container stopped before it answered ({status})"
                + (f"; its last output: {tail}" if tail else ""),
            )

    # -- engine calls: the hub's pool, a client per thread ---------------------------------------
    @property
    def executor(self):
        return self.lab_host.executor

    @property
    def client(self):
        host = self.lab_host
        if getattr(host.clients, "client", None) is None:
            kwargs = {"version": host.api_version or "auto"}
            if self.tls_config:
                kwargs["tls"] = docker.tls.TLSConfig(**self.tls_config)
            kwargs.update(docker.utils.kwargs_from_env())
            kwargs.update(self.client_kwargs)
            host.clients.client = docker.APIClient(**kwargs)
            host.api_version = host.clients.client.api_version
        return host.clients.client

    async def get_ip_and_port(self):
        if self.host_network:
            return "127.0.0.1", self.port
        return await super().get_ip_and_port()
