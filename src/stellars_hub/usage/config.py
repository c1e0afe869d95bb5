"""The usage feature's settings (``c.Usage.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class Usage(Configurable):
    """The usage report's records."""

    sample_interval = setting("JUPYTERHUB_USAGE_SAMPLE_INTERVAL")
    retention_days = setting("JUPYTERHUB_USAGE_RETENTION_DAYS")
