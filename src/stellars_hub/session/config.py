"""The session feature's settings (``c.IdleCuller.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class IdleCuller(Configurable):
    """Idle culling that honours the users' extensions."""

    enabled = setting("JUPYTERHUB_IDLE_CULLER_ENABLED")
    timeout = setting("JUPYTERHUB_IDLE_CULLER_TIMEOUT")
    interval = setting("JUPYTERHUB_IDLE_CULLER_INTERVAL")
    max_age = setting("JUPYTERHUB_IDLE_CULLER_MAX_AGE")
    max_extension = setting("JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION")
    warning = setting("JUPYTERHUB_IDLE_CULLER_WARNING")
    hour_seconds = setting("JUPYTERHUB_IDLE_CULLER_HOUR_SECONDS")
