"""The group policies' settings (``c.GroupPolicies.*``); the labs' default bounds are ``c.Labs``."""

from ..settings import Int, SettingsGroup, Unicode


class GroupPolicies(SettingsGroup):
    """Lab resources and privileges per JupyterHub group, and storage quotas."""

    category = "Labs"

    host_paths = Unicode(
        "",
        allow_empty=True,
        help="Comma-separated host directories under which group policies may mount host paths into labs (empty: named volumes only)",
    ).tag(config=True, env="JUPYTERHUB_POLICY_HOST_PATHS")
    quota_check_interval = Int(
        3600,
        min=10,
        max=86400,
        help="Seconds between checks of storage use against group quotas (users over quota are warned in JupyterLab at most once a day)",
    ).tag(config=True, env="JUPYTERHUB_QUOTA_CHECK_INTERVAL", unit="seconds")
