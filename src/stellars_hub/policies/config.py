"""The group policies' settings (``c.GroupPolicies.*``); the labs' default bounds are ``c.Labs``."""

from traitlets.config import Configurable

from ..settings import setting


class GroupPolicies(Configurable):
    """Lab resources and privileges per JupyterHub group, and storage quotas."""

    host_paths = setting("JUPYTERHUB_POLICY_HOST_PATHS")
    quota_check_interval = setting("JUPYTERHUB_QUOTA_CHECK_INTERVAL")
