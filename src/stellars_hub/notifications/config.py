"""The notifications feature's settings (``c.Notifications.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class Notifications(Configurable):
    """Broadcasts into running labs."""

    timeout = setting("JUPYTERHUB_NOTIFICATIONS_TIMEOUT")
