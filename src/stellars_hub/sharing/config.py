"""The sharing feature's settings (``c.LabSharing.*``)."""

from ..settings import Bool, SettingsGroup


class LabSharing(SettingsGroup):
    """Users sharing their running labs with other users and groups."""

    category = "Sharing labs"

    enabled = Bool(
        True,
        help="1: users share their running labs with named users, groups or an invitation link (the home page's Share my lab); sharing by name tells the sharer whether a name exists. 0: JupyterHub's shares do not open labs",
    ).tag(config=True, env="JUPYTERHUB_LAB_SHARING")
