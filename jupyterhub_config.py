# The whole configuration lives in the package; this file only hands JupyterHub's config to it.
from stellars_hub.hubconfig import apply

apply(c)  # noqa: F821 (c is injected by JupyterHub)
