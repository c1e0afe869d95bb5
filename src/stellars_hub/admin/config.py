"""The admin feature's settings (``c.Branding.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class Branding(Configurable):
    """The hub's logo."""

    logo_uri = setting("JUPYTERHUB_LOGO_URI")
