"""The self-service feature's settings (``c.SelfService.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class SelfService(Configurable):
    """Restart Server and Manage Volumes."""

    restart_timeout = setting("JUPYTERHUB_RESTART_TIMEOUT")
    restart_ready_timeout = setting("JUPYTERHUB_RESTART_READY_TIMEOUT")
    rate_limit = setting("JUPYTERHUB_SELFSERVICE_RATE_LIMIT")
