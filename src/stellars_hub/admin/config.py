"""The admin feature's settings (``c.Gpu.*``, ``c.Branding.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class Gpu(Configurable):
    """GPUs for the labs: off, on, or detected at start-up."""

    enabled = setting("JUPYTERHUB_GPU_ENABLED")
    nvidia_image = setting("JUPYTERHUB_NVIDIA_IMAGE")


class Branding(Configurable):
    """The hub's logo."""

    logo_uri = setting("JUPYTERHUB_LOGO_URI")
