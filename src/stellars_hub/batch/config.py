"""The batch feature's settings (``c.Batch.*``)."""

from ..settings import Int, SettingsGroup


class Batch(SettingsGroup):
    """Stopping, starting or restarting many labs at once."""

    category = "Batch actions"

    concurrency = Int(
        5,
        min=1,
        max=100,
        help="Labs a batch stops, starts or restarts at the same time (also bounded by JupyterHub's spawn limit)",
    ).tag(config=True, env="JUPYTERHUB_BATCH_CONCURRENCY")
