# The platform's own JupyterHub configuration: `stellars-hub run` starts JupyterHub with this
# file. A site's file (`stellars-hub run --config FILE`, or STELLARS_HUB_CONFIG) is loaded first,
# so it holds only what it changes; apply() then fills in everything the site left unset.
import os

from stellars_hub.hubconfig import apply

site = os.environ.get("STELLARS_HUB_CONFIG")
if site:
    load_subconfig(os.path.abspath(site))  # noqa: F821 (provided by traitlets' config loader)

apply(c)  # noqa: F821 (c is injected by JupyterHub)
