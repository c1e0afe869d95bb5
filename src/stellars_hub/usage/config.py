"""The usage feature's settings (``c.Usage.*``)."""

from ..settings import Int, SettingsGroup


class Usage(SettingsGroup):
    """The usage report's records."""

    category = "Usage report"

    sample_interval = Int(
        600, min=1, help="Seconds between usage samples (CPU, memory, lab and active time of running servers)"
    ).tag(config=True, env="JUPYTERHUB_USAGE_SAMPLE_INTERVAL", unit="seconds")
    retention_days = Int(
        400, min=8, max=3650, help="Days of usage records kept (independent of the activity monitor's samples)"
    ).tag(config=True, env="JUPYTERHUB_USAGE_RETENTION_DAYS", unit="days")
