"""StellarsSpawner: DockerSpawner with the platform's names, volumes and lab environment."""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import docker
from docker.errors import APIError
from dockerspawner import DockerSpawner
from jupyterhub.utils import random_port
from requests.exceptions import ConnectionError as RequestsConnectionError
from tornado import web
from traitlets import Bool, Dict, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import Config, Configurable

from . import labnet, naming
from .admin.config import Gpu
from .labwait import wait_until_answering
from .platform import Labs, NamedServers, StellarsHub


def lab_environment(labs: Labs) -> dict[str, str]:
    """What every lab receives besides JupyterHub's own variables."""
    flag = lambda on: "1" if on else "0"  # noqa: E731
    return {
        "JUPYTERHUB_SERVICE_MLFLOW": flag(labs.service_mlflow),
        "JUPYTERHUB_SERVICE_RESOURCES_MONITOR": flag(labs.service_resources_monitor),
        "JUPYTERHUB_SERVICE_TENSORBOARD": flag(labs.service_tensorboard),
        "TENSORBOARD_LOGDIR": "/tmp/tensorboard/logs",
        "MLFLOW_TRACKING_URI": "http://localhost:5000",
        "MLFLOW_PORT": "5000",
        "MLFLOW_HOST": "127.0.0.1",  # the lab's loopback: reached through the lab's own server proxy
        "MLFLOW_WORKERS": "1",
        "TF_CPP_MIN_LOG_LEVEL": labs.tf_cpp_min_log_level,
    }


ENGINE_UNREACHABLE = (RequestsConnectionError, ConnectionError, FileNotFoundError)


class StellarsSpawner(DockerSpawner):
    """One container ``jupyterlab-{escaped name}`` per user, with persistent named volumes.

    Its image, network, lab environment and GPU request default to the platform's settings
    (``c.Labs.*``, ``c.Gpu.enabled``); ``c.StellarsSpawner.*`` overrides them as usual."""

    shared_volume = Unicode(naming.SHARED_VOLUME, config=True, help="Volume mounted for everybody at /mnt/shared")
    lab_environment = Dict(config=True, help="Extra environment for every lab (default: from c.Labs)")
    gpu_enabled = Bool(
        config=True,
        help="Request all GPUs and set the GPU flags in the lab (default: c.Gpu.enabled is 1; "
        "with 2 the GPU detection decides before every start)",
    )

    @property
    def labs(self) -> Labs:
        return Labs(config=self.config)

    @default("image")
    def _image_default(self):
        return self.labs.image

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

    @default("hub_container")
    def _hub_container_default(self):
        return socket.gethostname() if os.path.exists("/.dockerenv") else ""

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

    @default("lab_environment")
    def _lab_environment_default(self):
        return lab_environment(self.labs)

    @default("gpu_enabled")
    def _gpu_enabled_default(self):
        return Gpu(config=self.config).enabled == "1"

    @default("use_internal_ip")
    def _use_internal_ip_default(self):
        return True  # labs are reached on their network (or loopback), never via published ports

    @default("default_url")
    def _default_url_default(self):
        return "/lab"

    @default("start_timeout")
    def _start_timeout_default(self):
        return 180

    @default("http_timeout")
    def _http_timeout_default(self):
        return 120

    user_volumes = List(
        Dict(),
        config=True,
        help="""Per-user volumes: [{"key": "home", "mount": "/home", "description": "..."}].
        Each becomes the Docker volume jupyterlab-{name}_{key}; the self-service reset offers
        exactly these (never the shared volume).""",
    )

    @default("user_volumes")
    def _user_volumes_default(self):
        return naming.default_user_volumes()

    @validate("user_volumes")
    def _check_user_volumes(self, proposal):
        try:
            return naming.check_user_volumes(proposal.value)
        except ValueError as exc:
            raise TraitError(str(exc)) from None

    @property
    def volume_specs(self) -> tuple[naming.UserVolume, ...]:
        return tuple(naming.UserVolume(v["key"], v["mount"], v.get("description", "")) for v in self.user_volumes)

    @default("escape")
    def _escape_default(self):
        return naming.escape_name

    shared_home = Bool(
        config=True, help="Named servers mount the default server's home volume (default: c.NamedServers.shared_home)"
    )

    @default("shared_home")
    def _shared_home_default(self):
        return NamedServers(config=self.config).shared_home

    @default("name_template")
    def _name_template_default(self):
        # a named server gets its own container: jupyterlab-{username}--{servername}
        suffix = naming.SERVER_SEPARATOR + "{servername}" if self.name else ""
        return naming.CONTAINER_PREFIX + "{username}" + suffix

    @default("remove")
    def _remove_default(self):
        return True  # containers go on stop; named volumes stay

    @default("notebook_dir")
    def _notebook_dir_default(self):
        return naming.NOTEBOOK_DIR

    @default("volumes")
    def _volumes_default(self):
        names = naming.server_volume_names(self.user.name, self.name, self.volume_specs, self.shared_home)
        binds = {names[v.key]: v.mount for v in self.volume_specs}
        binds[self.shared_volume] = naming.SHARED_MOUNT
        return binds

    @default("oauth_access_scopes")
    def _oauth_access_scopes_default(self):
        # admin access by consent (stellars_hub/access): a lab admits only holders of this
        # custom scope on its owner, which JupyterHub's admin role does not have. A default, not
        # a pre-spawn step, so spawners rebuilt after a hub restart know it too.
        return [f"custom:labaccess:enter!user={self.user.name}"]

    @default("extra_host_config")
    def _extra_host_config_default(self):
        # Self-service restart uses the engine's own restart, which an auto-removing container
        # would not survive; stop() removes the container explicitly instead (remove=True).
        # init: the engine's tiny init is PID 1 and forwards the stop signal, so a lab stopped
        # while still importing (PID 1 ignores SIGTERM until it installs a handler) stops at
        # once instead of after the whole stop timeout.
        return {"auto_remove": False, "init": True}

    # set by self-service restart while the engine restarts the container in place
    restarting_in_place = False

    _joined_network = False

    async def poll(self):
        if self.restarting_in_place:
            return None  # stopped for a moment on purpose, not dead
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

    def get_env(self):
        env = super().get_env()
        env.update({k: str(v) for k, v in self.lab_environment.items()})
        env["ENABLE_GPU_SUPPORT"] = "1" if self.gpu_enabled else "0"
        if self.gpu_enabled:
            env["NVIDIA_VISIBLE_DEVICES"] = "all"
            env["NVIDIA_DRIVER_CAPABILITIES"] = "compute,utility"
        env.update(self.start_env)  # this start's policy: limits, GPUs, group and user variables
        return env

    # Per-start privileges, set afresh before every start (admin feature's pre-spawn hook from
    # group membership). Never merged into the configured traits, so a spawner object reused
    # across starts cannot keep a mount, flag or GPU request its user no longer has.
    start_binds: dict = {}
    start_host_config: dict = {}
    start_env: dict = {}
    start_labels: dict = {}  # the policies feature's fingerprint of this start's lab

    GPU_REQUEST = {"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}

    async def create_object(self):
        configured_volumes, configured_host = self.volumes, self.extra_host_config
        configured_create, configured_cpu = self.extra_create_kwargs, self.cpu_limit
        host = self._eval_if_callable(configured_host)
        if inspect.isawaitable(host):
            host = await host
        create = self._eval_if_callable(configured_create)
        if inspect.isawaitable(create):
            create = await create
        extra = dict(self.start_host_config)
        if self.network_per_lab and not self.hub_container:
            # the hub runs on the host: labs reach it through their own network's gateway
            extra.setdefault("extra_hosts", {self.hub_alias: "host-gateway"})
        if self.labs.cpu_shares and "cpu_shares" not in extra:
            extra["cpu_shares"] = self.labs.cpu_shares  # below the hub's weight: see JUPYTERHUB_LAB_CPU_SHARES
        if self.gpu_enabled and "device_requests" not in extra:  # a policy's GPU choice wins
            extra["device_requests"] = [dict(self.GPU_REQUEST)]
        try:
            self.volumes = {**configured_volumes, **self.start_binds}
            self.extra_host_config = {**host, **extra}
            if "nano_cpus" in extra:
                self.cpu_limit = None  # DockerSpawner would add a CPU period the engine refuses beside NanoCpus
            if self.start_labels:
                self.extra_create_kwargs = {**create, "labels": {**create.get("labels", {}), **self.start_labels}}
            return await super().create_object()
        finally:
            self.volumes, self.extra_host_config = configured_volumes, configured_host
            self.extra_create_kwargs, self.cpu_limit = configured_create, configured_cpu

    async def start_object(self):
        try:
            return await super().start_object()
        except APIError as exc:
            reason = str(exc.explanation or exc)
            wants_gpu = self.gpu_enabled or bool(self.start_host_config.get("device_requests"))
            if wants_gpu and re.search(r"device driver|nvidia|gpu", reason, re.I):
                # Docker only says "could not select device driver"; say what it means here
                raise RuntimeError(
                    f"the lab container could not start with a GPU ({reason}). GPUs are enabled "
                    "(JUPYTERHUB_GPU_ENABLED) but the Docker host has no usable NVIDIA runtime or GPU; "
                    "ask your administrator (0 turns GPUs off, 2 detects them at start-up)."
                ) from exc
            raise

    @property
    def owns_network(self) -> bool:
        return self.network_per_lab and self.network_name != self.lab_network_base

    _hub_container_checked: dict = {}  # configured name -> whether the engine knows it (per process)

    async def engine_hub_container(self) -> str:
        """The hub's container when this engine runs it ('' when the hub is on the host or in a
        container of another engine, e.g. a development container next to the engine)."""
        name = self.hub_container
        if name and name not in self._hub_container_checked:
            try:
                await self.docker("inspect_container", name)
                self._hub_container_checked[name] = True
            except APIError as exc:
                if exc.status_code != 404:
                    raise
                self.log.info(
                    "The hub is not a container of this engine (%s); labs reach it through their gateway", name
                )
                self._hub_container_checked[name] = False
        return name if name and self._hub_container_checked[name] else ""

    async def ensure_lab_network(self) -> None:
        name = self.network_name
        if self.hub_container and not await self.engine_hub_container():
            self.hub_container = ""
        # a small subnet of the platform's own pool, not one of the engine's ~30 default pools
        pool = labnet.pool_from(self.labs, NamedServers(config=self.config))
        await labnet.ensure_network(self.docker, name, pool, {labnet.LABEL: self.user.name}, labnet.hub_status())
        if self.hub_container:
            try:
                await self.docker("connect_container_to_network", self.hub_container, name, aliases=[self.hub_alias])
            except APIError as exc:
                if "already exists" not in str(exc):
                    raise

    async def remove_lab_network(self) -> None:
        try:
            if self.hub_container:
                await self.docker("disconnect_container_from_network", self.hub_container, self.network_name)
            await self.docker("remove_network", self.network_name)
        except APIError as exc:  # gone already, or still used: kept, reused at the next start
            self.log.debug("Lab network %s not removed: %s", self.network_name, exc)

    # Host networking: each lab listens on its own loopback port, chosen by the hub and bound by
    # the lab seconds later. Ports are drawn below Linux's ephemeral range (32768+), so no
    # outgoing connection of the host can take one meanwhile, and never one handed to another
    # lab of this hub that may not have bound it yet.
    host_port_range = (20000, 32768)
    _host_ports: dict = {}  # user name -> port handed out

    def _free_host_port(self) -> int:
        taken = {p for n, p in StellarsSpawner._host_ports.items() if n != self.user.name}
        for _ in range(200):
            port = random.randrange(*self.host_port_range)
            if port in taken:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            StellarsSpawner._host_ports[self.user.name] = port
            return port
        return random_port()  # the range is exhausted or blocked: let the kernel pick

    async def start(self):
        if self.owns_network:
            await self.ensure_lab_network()
        if self.host_network:
            # every lab shares the host's ports: give each start a free one, loopback only
            self.ip = "127.0.0.1"
            self.port = self._free_host_port()
        async with _StartTurn(await self._start_gate(), self):
            ip, port = await super().start()
            await self._wait_for_lab(ip, port)
        return ip, port

    # Labs starting at once (container start until the lab answers). Starting is the lab's
    # CPU-heavy moment (interpreter, imports); thirty at once share the CPUs and all answer at
    # the very end, queued they answer one batch after another, the last no later. One per CPU
    # but one: that CPU stays with the hub, its proxy (every user's lab traffic) and the engine,
    # which a lab's weight alone (JUPYTERHUB_LAB_CPU_SHARES) does not keep fast.
    starts_at_once = Integer(
        config=True, help="Labs starting at once; later starts wait their turn (default: c.Labs.starts_at_once)"
    )

    @default("starts_at_once")
    def _starts_at_once_default(self):
        return self.labs.starts_at_once

    _gate: asyncio.Semaphore | None = None
    waiting_to_start = 0  # starts waiting for a turn (this process)

    async def _start_gate(self) -> asyncio.Semaphore:
        cls = StellarsSpawner
        if cls._gate is None:
            size = self.starts_at_once
            if not size:
                try:
                    size = max(1, int((await self.docker("info"))["NCPU"]) - 1)
                except Exception as exc:  # the start itself will report an engine that is down
                    self.log.warning("Could not read the engine's CPU count (%s); starting 8 labs at once", exc)
                    size = 8
            if cls._gate is None:  # another start may have sized it meanwhile
                cls._gate = asyncio.Semaphore(size)
                self.log.info("Labs start %d at once; later starts wait their turn", size)
        return cls._gate

    _waiting_for_turn = False

    async def progress(self):
        """The spawn page's progress: whether this start waits for its turn (JupyterHub ends
        the stream when the start is over)."""
        said = None
        while self._spawn_pending:
            if self._waiting_for_turn:
                message = f"Waiting for other labs to start first ({StellarsSpawner.waiting_to_start} waiting)"
            else:
                message = "Starting the lab" if said else None
            if message and message != said:
                yield {"progress": 10 if self._waiting_for_turn else 50, "message": message}
                said = message
            await asyncio.sleep(0.5)

    async def stop(self, now=False):
        try:
            await super().stop(now=now)
            if self.owns_network:
                await self.remove_lab_network()
        finally:
            StellarsSpawner._host_ports.pop(self.user.name, None)

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

    # DockerSpawner runs every engine call of every user on ONE thread with one client, so a
    # class of spawns queues behind each other's create/start/stop calls. A few threads, each
    # with its own client (a requests session is not meant to be shared across threads).
    engine_threads = 8
    _pool = None
    _thread_clients = threading.local()

    @property
    def executor(self):
        cls = StellarsSpawner
        if cls._pool is None:
            cls._pool = ThreadPoolExecutor(self.engine_threads, thread_name_prefix="stellars-spawner")
        return cls._pool

    _api_version = None  # learnt by the first client; later ones skip the engine round trip

    @property
    def client(self):
        local = StellarsSpawner._thread_clients
        if getattr(local, "client", None) is None:
            kwargs = {"version": StellarsSpawner._api_version or "auto"}
            if self.tls_config:
                kwargs["tls"] = docker.tls.TLSConfig(**self.tls_config)
            kwargs.update(docker.utils.kwargs_from_env())
            kwargs.update(self.client_kwargs)
            local.client = docker.APIClient(**kwargs)
            StellarsSpawner._api_version = local.client.api_version
        return local.client

    async def get_ip_and_port(self):
        if self.host_network:
            return "127.0.0.1", self.port
        return await super().get_ip_and_port()


class _StartTurn:
    """Holds one of the gate's turns for a start; counts the starts still waiting for one. A
    start waits at most half its start timeout (JupyterHub's clock runs while it waits), then
    goes ahead without a turn rather than fail."""

    def __init__(self, gate: asyncio.Semaphore, spawner: StellarsSpawner):
        self.gate, self.spawner = gate, spawner
        self.held = False

    async def __aenter__(self):
        if not self.gate.locked():  # a free turn is taken at once: this start never waited
            await self.gate.acquire()
            self.held = True
            return self
        StellarsSpawner.waiting_to_start += 1
        self.spawner._waiting_for_turn = True
        try:
            await asyncio.wait_for(self.gate.acquire(), self.spawner.start_timeout / 2)
            self.held = True
        except asyncio.TimeoutError:
            self.spawner.log.info("Starting %s's lab without waiting longer for a turn", self.spawner.user.name)
        finally:
            StellarsSpawner.waiting_to_start -= 1
            self.spawner._waiting_for_turn = False

    async def __aexit__(self, *exc):
        if self.held:
            self.gate.release()


class ConfiguredUserVolumes(Configurable):
    """Reads the spawner's ``user_volumes`` from a config without building a spawner (one
    needs a user): the same trait, default and checks, fed with the spawner's sections."""

    user_volumes = List(Dict(), config=True)

    @default("user_volumes")
    def _user_volumes_default(self):
        return StellarsSpawner._user_volumes_default(self)

    @validate("user_volumes")
    def _check_user_volumes(self, proposal):
        return StellarsSpawner._check_user_volumes(self, proposal)


def configured_volume_specs(config, spawner_class=None) -> tuple[naming.UserVolume, ...]:
    """The per-user volumes this hub's configuration gives every spawner (``user_volumes`` of
    the spawner class as configured: its class sections, the most derived one winning, from
    files or the command line), for work with no spawner at hand: a deleted user's volumes,
    hub-wide reports."""
    cls = spawner_class or StellarsSpawner
    if not (isinstance(cls, type) and issubclass(cls, StellarsSpawner)):
        return naming.USER_VOLUMES  # a spawner of another kind mounts none of ours
    view = Config()
    for section in cls.section_names():  # base classes first, as traitlets applies them
        if section in config and "user_volumes" in config[section]:
            view[ConfiguredUserVolumes.__name__] = Config(user_volumes=config[section]["user_volumes"])
    specs = ConfiguredUserVolumes(config=view).user_volumes
    return tuple(naming.UserVolume(v["key"], v["mount"], v.get("description", "")) for v in specs)
