"""The versions shown in the home page footer and the browser console."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "stellars-jupyterhub-ds"


def installed(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def footer_line() -> str:
    return f"Stellars JupyterHub DS {installed(DISTRIBUTION)} | JupyterHub {installed('jupyterhub')}"
