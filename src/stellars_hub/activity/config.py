"""The activity monitor's settings (``c.ActivityMonitor.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class ActivityMonitor(Configurable):
    """Samples, activity score and resource use of every lab."""

    sample_interval = setting("JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL")
    retention_days = setting("JUPYTERHUB_ACTIVITYMON_RETENTION_DAYS")
    half_life = setting("JUPYTERHUB_ACTIVITYMON_HALF_LIFE")
    inactive_after = setting("JUPYTERHUB_ACTIVITYMON_INACTIVE_AFTER")
