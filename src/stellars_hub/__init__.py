"""Stellars JupyterHub DS: a JupyterHub distribution for data-science teams."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stellars-jupyterhub-ds")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
