"""The access feature's settings (``c.LabAccess.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class LabAccess(Configurable):
    """Administrators' access to users' labs."""

    mode = setting("JUPYTERHUB_ADMIN_LAB_ACCESS")
    max_hours = setting("JUPYTERHUB_ADMIN_LAB_ACCESS_MAX_HOURS")
    recheck_seconds = setting("JUPYTERHUB_LAB_AUTH_RECHECK_SECONDS")
