"""``LabSpawnerMixin``: everything a lab is, whatever runs it. Both spawners carry it
(``StellarsSpawner(LabSpawnerMixin, DockerSpawner)``, ``StellarsKubeSpawner(LabSpawnerMixin,
KubeSpawner)``); each keeps only what its engine needs. Its defaults come from the site's lab
settings (``c.Labs``, ``c.Gpu``, ``c.NamedServers``); ``c.<Spawner>.*`` overrides them as usual.

A start's lab is its ``lab_spec``, set afresh before every start by the policies feature's
pre-spawn step and rendered by the backend; it is never merged into the configured traits, so
a spawner object reused across starts cannot keep a mount, flag or GPU its user no longer has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from traitlets import Bool, Dict, List, TraitError, Unicode, default, validate
from traitlets.config import Config, Configurable

from .. import naming
from .config import Gpu, Labs, NamedServers, lab_environment
from .spec import OWN, SHARED, LabSpec, Mount

ENTER_SCOPE = "custom:labaccess:enter"  # the access feature's scope (defined there for JupyterHub)


def lab_scopes(spawner) -> list[str]:
    """The one scope that opens this lab (the access feature's enter scope on this server): the
    default of both ``oauth_access_scopes`` (what the lab requires) and
    ``oauth_client_allowed_scopes`` (what its OAuth client may put into a visitor's token).
    Filtered to the lab's own server: JupyterHub intersects the allowed scopes with the
    visitor's own, so an unfiltered scope would hand the lab the visitor's enter scope on their
    own labs, which the lab's owner could replay there. The owner holds it through ``!user``, an
    admin through the access feature's grant role."""
    return [lab_scope(spawner.user.name, spawner.name)]


def lab_scope(owner: str, server: str = "") -> str:
    """The enter scope on one server: what a share of that lab carries besides JupyterHub's
    ``access:servers`` on it (the sharing feature), so that the lab opens for its recipient."""
    return f"{ENTER_SCOPE}!server={owner}/{server}"


class LabSpawnerMixin(Configurable):
    if TYPE_CHECKING:  # JupyterHub's Spawner, which every class carrying the mixin is
        user: Any
        name: str
        log: Any
        user_options: dict
        orm_spawner: Any
        _log_name: str

    shared_volume = Unicode(naming.SHARED_VOLUME, config=True, help="Volume mounted for everybody at /mnt/shared")
    lab_environment = Dict(
        config=True, help="Extra environment for every lab (default: the service switches of c.Labs)"
    )
    gpu_enabled = Bool(
        config=True,
        help="Every lab asks for GPUs unless a group policy says otherwise (default: c.Gpu.enabled is 1; "
        "with 2 the GPU detection decides before every start)",
    )
    user_volumes = List(
        Dict(),
        config=True,
        help="""Per-user volumes: [{"key": "home", "mount": "/home", "description": "..."}].
        Each becomes the volume jupyterlab-{name}_{key} (on Kubernetes the claim
        jupyterlab-{name}-{key}); Manage Volumes, delete-with-volumes, kept-volume cleanup and the
        activity page use exactly these (never the shared volume).""",
    )
    shared_home = Bool(
        config=True, help="Named servers mount the default server's home volume (default: c.NamedServers.shared_home)"
    )

    @property
    def labs(self) -> Labs:
        return Labs(config=self.config)

    @default("lab_environment")
    def _lab_environment_default(self):
        return lab_environment(self.labs)

    @default("gpu_enabled")
    def _gpu_enabled_default(self):
        return Gpu(config=self.config).enabled == "1"

    @default("user_volumes")
    def _user_volumes_default(self):
        return naming.default_user_volumes()

    @validate("user_volumes")
    def _check_user_volumes(self, proposal):
        try:
            return naming.check_user_volumes(proposal.value)
        except ValueError as exc:
            raise TraitError(str(exc)) from None

    @default("shared_home")
    def _shared_home_default(self):
        return NamedServers(config=self.config).shared_home

    # JupyterHub's own traits, the same on both backends
    @default("image")
    def _image_default(self):
        return self.labs.image

    @default("notebook_dir")
    def _notebook_dir_default(self):
        return naming.NOTEBOOK_DIR

    @default("default_url")
    def _default_url_default(self):
        return "/lab"

    @default("start_timeout")
    def _start_timeout_default(self):
        return 180

    @default("http_timeout")
    def _http_timeout_default(self):
        return 120

    # admin access by consent (stellars_hub/access): a lab admits only holders of this custom
    # scope on its own server, which JupyterHub's admin role does not have, and its OAuth client
    # hands out nothing else. Defaults, not a pre-spawn step, so spawners rebuilt after a hub
    # restart know them too.
    @default("oauth_access_scopes")
    def _oauth_access_scopes_default(self):
        return lab_scopes(self)

    @default("oauth_client_allowed_scopes")
    def _oauth_client_allowed_scopes_default(self):
        return lab_scopes(self)

    # -- the lab's volumes -------------------------------------------------------------------
    @property
    def volume_specs(self) -> tuple[naming.UserVolume, ...]:
        return naming.volume_specs(self.user_volumes)

    @classmethod
    def configured_volume_specs(cls, config) -> tuple[naming.UserVolume, ...]:
        """The per-user volumes this class's configuration gives every spawner (its sections,
        the most derived winning), for work with no spawner at hand: a deleted user's volumes,
        hub-wide reports."""
        view = Config()
        for section in cls.section_names():  # base classes first, as traitlets applies them
            if section in config and "user_volumes" in config[section]:
                view[ConfiguredVolumes.__name__] = Config(user_volumes=config[section]["user_volumes"])
        return naming.volume_specs(ConfiguredVolumes(config=view).user_volumes)

    def volume_names(self, names: naming.VolumeNames) -> dict[str, str]:
        """key -> this server's own volume (a named server's home may be the default server's);
        ``names``: the hub's, which knows renamed users."""
        return names.server_volume_names(self.user.name, self.name, self.volume_specs, self.shared_home)

    def lab_volumes(self, names: naming.VolumeNames) -> tuple[Mount, ...]:
        """The user's own volumes of this server and the shared volume, as the spec mounts them."""
        own_names = self.volume_names(names)
        own = tuple(Mount(own_names[v.key], v.mount, role=OWN) for v in self.volume_specs)
        return (*own, Mount(self.shared_volume, naming.SHARED_MOUNT, role=SHARED))

    @property
    def lab_name(self) -> str:
        """The container (Docker) or pod (Kubernetes) of this server."""
        return naming.server_container_name(self.user.name, self.name)

    # -- a start's lab -----------------------------------------------------------------------
    lab_spec: LabSpec | None = None
    # the options of this server's last accepted start (what JupyterHub remembered when the
    # spawner was made): a refused request's options are replaced by them, not remembered
    accepted_user_options: dict = {}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.accepted_user_options = dict(getattr(self, "user_options", None) or {})

    def spec(self) -> LabSpec:
        """This start's spec; a start without one would run a lab no policy shaped."""
        if self.lab_spec is None:
            raise RuntimeError(
                f"no lab spec for {self.user.name}'s server: the platform's pre-spawn step did not run "
                "(keep JupyterHub's Spawner.pre_spawn_hook as the platform sets it)"
            )
        return self.lab_spec

    def spec_environment(self, spec: LabSpec) -> dict[str, str]:
        """The spec's variables as this backend hands them to the lab."""
        raise NotImplementedError

    def get_env(self):
        env = super().get_env()  # type: ignore[misc]
        env.update({k: str(v) for k, v in self.lab_environment.items()})
        if self.lab_spec is not None:  # (JupyterHub also asks outside a start)
            env.update(self.spec_environment(self.lab_spec))
        return env

    @property
    def lab_network(self) -> str:
        """The network this lab has to itself, if its backend makes one ('' here): what the
        platform's post-stop step removes with the lab's container (pod), whichever way it
        stopped. Keep JupyterHub's ``Spawner.post_stop_hook`` as the platform sets it."""
        return ""

    # set by restart while the engine restarts the lab in place
    restarting_in_place = False

    async def poll(self):
        if self.restarting_in_place:
            return None  # stopped for a moment on purpose, not dead
        return await super().poll()  # type: ignore[misc]


def configured_volume_specs(config, spawner_class) -> tuple[naming.UserVolume, ...]:
    """The per-user volumes of the hub's spawner class as configured (a spawner of another kind
    mounts none of the platform's: the defaults then name what its users' volumes would be)."""
    if isinstance(spawner_class, type) and issubclass(spawner_class, LabSpawnerMixin):
        return spawner_class.configured_volume_specs(config)
    return naming.USER_VOLUMES


class ConfiguredVolumes(Configurable):
    """The mixin's ``user_volumes`` trait alone (a spawner needs a user to exist)."""

    user_volumes = List(Dict(), config=True)

    @default("user_volumes")
    def _user_volumes_default(self):
        return naming.default_user_volumes()

    @validate("user_volumes")
    def _check_user_volumes(self, proposal):
        return LabSpawnerMixin._check_user_volumes(self, proposal)  # type: ignore[arg-type]
