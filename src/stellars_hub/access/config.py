"""The access feature's settings (``c.LabAccess.*``)."""

from ..settings import Enum, Int, SettingsGroup


class LabAccess(SettingsGroup):
    """Administrators' access to users' labs."""

    category = "Admin access to labs"

    mode = Enum(
        ("consent", "notified"),
        "consent",
        help="consent: admins open a user's lab only while that user allows it; notified: without consent, but the user is notified in their lab and it is audited",
    ).tag(config=True, env="JUPYTERHUB_ADMIN_LAB_ACCESS")
    max_hours = Int(24, min=1, max=720, help="Longest consent a user can give at once").tag(
        config=True, env="JUPYTERHUB_ADMIN_LAB_ACCESS_MAX_HOURS", unit="hours"
    )
    recheck_seconds = Int(
        30,
        min=5,
        max=300,
        help="How long a lab trusts the hub's answer about a login before asking again (JupyterHub's own default is 300): withdrawn or expired access stops working within this time, even in a tab left open",
    ).tag(config=True, env="JUPYTERHUB_LAB_AUTH_RECHECK_SECONDS", unit="seconds")
