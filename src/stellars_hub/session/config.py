"""The session feature's settings (``c.IdleCuller.*``)."""

from ..settings import Bool, Int, SettingsGroup


class IdleCuller(SettingsGroup):
    """Idle culling that honours the users' extensions."""

    category = "Idle culler"

    enabled = Bool(False, help="1: stop labs that stay idle").tag(config=True, env="JUPYTERHUB_IDLE_CULLER_ENABLED")
    timeout = Int(86400, min=10, help="Idle time after which a lab is stopped").tag(
        config=True, env="JUPYTERHUB_IDLE_CULLER_TIMEOUT", unit="seconds"
    )
    interval = Int(600, min=1, help="How often idleness is checked").tag(
        config=True, env="JUPYTERHUB_IDLE_CULLER_INTERVAL", unit="seconds"
    )
    max_age = Int(0, min=0, help="Stop labs older than this whatever their activity (0 = off)").tag(
        config=True, env="JUPYTERHUB_IDLE_CULLER_MAX_AGE", unit="seconds"
    )
    gpu_timeout = Int(
        0,
        min=0,
        help="Idle time after which a lab with GPUs is stopped unless a group policy sets one (0 = JUPYTERHUB_IDLE_CULLER_TIMEOUT): idle GPUs are costly",
    ).tag(config=True, env="JUPYTERHUB_IDLE_CULLER_GPU_TIMEOUT", unit="seconds")
    gpu_max_age = Int(
        0,
        min=0,
        help="Maximum age of a lab with GPUs unless a group policy sets one (0 = JUPYTERHUB_IDLE_CULLER_MAX_AGE)",
    ).tag(config=True, env="JUPYTERHUB_IDLE_CULLER_GPU_MAX_AGE", unit="seconds")
    max_extension = Int(24, min=0, max=720, help="Hours a user may extend their session per server start").tag(
        config=True, env="JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION", unit="hours"
    )
    warning = Int(
        900, min=0, help="How long before stopping a lab its user is warned inside JupyterLab (0 = no warning)"
    ).tag(config=True, env="JUPYTERHUB_IDLE_CULLER_WARNING", unit="seconds")
    hour_seconds = Int(3600, min=1, max=3600, help="Length of one extension hour; only tests shorten it").tag(
        config=True, env="JUPYTERHUB_IDLE_CULLER_HOUR_SECONDS", unit="seconds"
    )
