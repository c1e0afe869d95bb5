"""The notifications feature's settings (``c.Notifications.*``)."""

from ..settings import Int, SettingsGroup


class Notifications(SettingsGroup):
    """Broadcasts into running labs."""

    category = "Notifications"

    timeout = Int(
        5, min=1, max=60, help="Seconds each lab gets to accept a broadcast before it counts as not responding"
    ).tag(config=True, env="JUPYTERHUB_NOTIFICATIONS_TIMEOUT", unit="seconds")
