"""StellarsSpawner: DockerSpawner with the platform's names, volumes and lab environment."""

from __future__ import annotations

import inspect
import re

from docker.errors import APIError
from dockerspawner import DockerSpawner
from jupyterhub.utils import random_port
from traitlets import Bool, Dict, List, TraitError, Unicode, default, validate

from . import naming


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

    shared_home = Bool(False, config=True, help="Named servers mount the default server's home volume")

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
        return {"auto_remove": False}

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

    async def start(self):
        if self.host_network:
            # every lab shares the host's ports: give each start a free one, loopback only
            self.ip = "127.0.0.1"
            self.port = random_port()
        return await super().start()

    async def get_ip_and_port(self):
        if self.host_network:
            return "127.0.0.1", self.port
        return await super().get_ip_and_port()
