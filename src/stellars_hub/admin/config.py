"""The admin feature's settings (``c.Gpu.*``, ``c.Branding.*``)."""

from ..settings import URI, Enum, SettingsGroup, Unicode


class Gpu(SettingsGroup):
    """GPUs for the labs: off, on, or detected at start-up."""

    category = "GPU"

    enabled = Enum(("0", "1", "2"), "2", help="0 off, 1 on, 2 detect at start-up").tag(
        config=True, env="JUPYTERHUB_GPU_ENABLED"
    )
    nvidia_image = Unicode(
        "nvidia/cuda:13.0.2-base-ubuntu24.04", help="Image used to probe for GPUs with nvidia-smi"
    ).tag(config=True, env="JUPYTERHUB_NVIDIA_IMAGE")


class Branding(SettingsGroup):
    """The hub's logo."""

    category = "Branding"

    logo_uri = URI(
        "file:///srv/jupyterhub/logo.svg", help="Hub logo: a file:// path served by the hub or an http(s):// URL"
    ).tag(config=True, env="JUPYTERHUB_LOGO_URI")
