"""The admin feature's settings (``c.Branding.*``)."""

from ..settings import URI, SettingsGroup


class Branding(SettingsGroup):
    """The hub's logo."""

    category = "Branding"

    logo_uri = URI(
        "file:///srv/jupyterhub/logo.svg", help="Hub logo: a file:// path served by the hub or an http(s):// URL"
    ).tag(config=True, env="JUPYTERHUB_LOGO_URI")
