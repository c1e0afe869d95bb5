"""StellarsSpawner: DockerSpawner with the platform's names, volumes and lab environment."""

from __future__ import annotations

import inspect
import random
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import docker
from docker.errors import APIError
from dockerspawner import DockerSpawner
from jupyterhub.utils import random_port
from traitlets import Bool, Dict, List, TraitError, Unicode, default, validate

from . import naming
from .labwait import wait_until_answering


class StellarsSpawner(DockerSpawner):
    """One container ``jupyterlab-{escaped name}`` per user, with persistent named volumes."""

    shared_volume = Unicode(naming.SHARED_VOLUME, config=True, help="Volume mounted for everybody at /mnt/shared")
    lab_environment = Dict(config=True, help="Extra environment for every lab (service switches, MLflow, ...)")
    gpu_enabled = Bool(False, config=True, help="Request all GPUs and set the GPU flags in the lab")
    user_volumes = List(
        Dict(),
        config=True,
        help="""Per-user volumes: [{"key": "home", "mount": "/home", "description": "..."}].
        Each becomes the Docker volume jupyterlab-{name}_{key}; the self-service reset offers
        exactly these (never the shared volume).""",
    )

    @default("user_volumes")
    def _user_volumes_default(self):
        return [{"key": v.key, "mount": v.mount, "description": v.description} for v in naming.USER_VOLUMES]

    @validate("user_volumes")
    def _check_user_volumes(self, proposal):
        keys = set()
        for spec in proposal.value:
            key = spec.get("key", "")
            if not re.fullmatch(r"[a-z0-9]+", key) or key in keys or not str(spec.get("mount", "")).startswith("/"):
                raise TraitError(f"user_volumes: {spec!r} needs a unique lower-case key and an absolute mount")
            keys.add(key)
        return proposal.value

    @property
    def volume_specs(self) -> tuple[naming.UserVolume, ...]:
        return tuple(naming.UserVolume(v["key"], v["mount"], v.get("description", "")) for v in self.user_volumes)

    @default("escape")
    def _escape_default(self):
        return naming.escape_name

    @default("name_template")
    def _name_template_default(self):
        return naming.CONTAINER_PREFIX + "{username}"

    @default("remove")
    def _remove_default(self):
        return True  # containers go on stop; named volumes stay

    @default("notebook_dir")
    def _notebook_dir_default(self):
        return naming.NOTEBOOK_DIR

    @default("volumes")
    def _volumes_default(self):
        binds = {naming.volume_name(self.user.name, v.key): v.mount for v in self.volume_specs}
        binds[self.shared_volume] = naming.SHARED_MOUNT
        return binds

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

    async def poll(self):
        if self.restarting_in_place:
            return None  # stopped for a moment on purpose, not dead
        return await super().poll()

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
        return env

    # Per-start privileges, set afresh before every start (admin feature's pre-spawn hook from
    # group membership). Never merged into the configured traits, so a spawner object reused
    # across starts cannot keep a mount, flag or GPU request its user no longer has.
    start_binds: dict = {}
    start_host_config: dict = {}

    GPU_REQUEST = {"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}

    async def create_object(self):
        configured_volumes, configured_host = self.volumes, self.extra_host_config
        host = self._eval_if_callable(configured_host)
        if inspect.isawaitable(host):
            host = await host
        extra = dict(self.start_host_config)
        if self.gpu_enabled:
            extra["device_requests"] = [dict(self.GPU_REQUEST)]
        try:
            self.volumes = {**configured_volumes, **self.start_binds}
            self.extra_host_config = {**host, **extra}
            return await super().create_object()
        finally:
            self.volumes, self.extra_host_config = configured_volumes, configured_host

    async def start_object(self):
        try:
            return await super().start_object()
        except APIError as exc:
            reason = str(exc.explanation or exc)
            if self.gpu_enabled and re.search(r"device driver|nvidia|gpu", reason, re.I):
                # Docker only says "could not select device driver"; say what it means here
                raise RuntimeError(
                    f"the lab container could not start with a GPU ({reason}). GPUs are enabled "
                    "(JUPYTERHUB_GPU_ENABLED) but the Docker host has no usable NVIDIA runtime or GPU; "
                    "ask your administrator (0 turns GPUs off, 2 detects them at start-up)."
                ) from exc
            raise

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
        if self.host_network:
            # every lab shares the host's ports: give each start a free one, loopback only
            self.ip = "127.0.0.1"
            self.port = self._free_host_port()
        ip, port = await super().start()
        await self._wait_for_lab(ip, port)
        return ip, port

    async def stop(self, now=False):
        try:
            return await super().stop(now=now)
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
        if await wait_until_answering(url, self.http_timeout, alive=alive, answered=lambda code: code < 500 and code != 404):
            return
        status = await super().poll()
        if status is not None:  # the lab is gone: say so now rather than after http_timeout
            try:
                tail = (await self.docker("logs", self.container_id, tail=3)).decode(errors="replace").strip()
            except Exception:
                tail = ""
            raise RuntimeError(f"the lab container stopped before it answered ({status})"
                               + (f"; its last output: {tail}" if tail else ""))

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
