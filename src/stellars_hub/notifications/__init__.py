"""Admin broadcast: a notification into every (or some) running JupyterLab session."""
