"""The self-service feature's settings (``c.SelfService.*``)."""

from ..settings import Int, SettingsGroup


class SelfService(SettingsGroup):
    """Restart Server and Manage Volumes."""

    category = "Self-service"

    restart_timeout = Int(10, min=0, max=600, help="Seconds a lab gets to stop gracefully on Restart Server").tag(
        config=True, env="JUPYTERHUB_RESTART_TIMEOUT", unit="seconds"
    )
    restart_ready_timeout = Int(120, min=5, max=3600, help="Seconds to wait for a restarted lab to answer again").tag(
        config=True, env="JUPYTERHUB_RESTART_READY_TIMEOUT", unit="seconds"
    )
    rate_limit = Int(10, min=1, max=1000, help="Restarts and resets allowed per user per minute").tag(
        config=True, env="JUPYTERHUB_SELFSERVICE_RATE_LIMIT"
    )
