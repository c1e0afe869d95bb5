"""The capacity feature's setting (``c.Capacity.*``), shown with the labs' settings."""

from ..settings import Int, SettingsGroup


class Capacity(SettingsGroup):
    """How many labs the host runs at once (admission before every start)."""

    category = "Labs"

    max_labs = Int(
        0,
        min=0,
        max=100000,
        help="Labs (default and named servers, running or starting) the host runs at once; a start past it is refused with a message saying so, before any container is created (0 = as many as the engine's memory holds: its memory less a reserve, divided by what the running labs use on average; on Kubernetes 0 leaves it to the scheduler)",
    ).tag(config=True, env="JUPYTERHUB_MAX_LABS")
