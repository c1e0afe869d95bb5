"""The backups feature's settings (``c.Backups.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class Backups(Configurable):
    """Scheduled backups of every user's volumes."""

    interval = setting("JUPYTERHUB_BACKUP_INTERVAL")
    target = setting("JUPYTERHUB_BACKUP_TARGET")
    keep = setting("JUPYTERHUB_BACKUP_KEEP")
    image = setting("JUPYTERHUB_BACKUP_IMAGE")
