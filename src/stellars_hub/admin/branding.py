"""JUPYTERHUB_LOGO_URI -> what the hub shows as its logo.

``file://`` paths become JupyterHub's own ``logo_file`` (served at /hub/logo) when the file
exists; ``http(s)://`` URLs go straight into the page's <img>; a missing file keeps
JupyterHub's default logo and is reported once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse


@dataclass(frozen=True)
class Logo:
    file: str | None = None  # for c.JupyterHub.logo_file
    url: str | None = None  # used as is by the page template
    warning: str | None = None  # why the default logo is shown instead


def resolve(uri: str) -> Logo:
    if uri.startswith(("http://", "https://")):
        return Logo(url=uri)
    parsed = urlparse(uri)
    path = Path(unquote(parsed.path))
    if parsed.netloc not in ("", "localhost"):
        return Logo(
            warning=f"JUPYTERHUB_LOGO_URI={uri}: only local file:// paths are supported; showing the default logo"
        )
    if not path.is_file():
        return Logo(warning=f"JUPYTERHUB_LOGO_URI={uri}: file {path} does not exist; showing the default logo")
    return Logo(file=str(path))
