"""The batch feature's settings (``c.Batch.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class Batch(Configurable):
    """Stopping, starting or restarting many labs at once."""

    concurrency = setting("JUPYTERHUB_BATCH_CONCURRENCY")
