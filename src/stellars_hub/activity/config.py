"""The activity monitor's settings (``c.ActivityMonitor.*``)."""

from ..settings import Int, SettingsGroup


class ActivityMonitor(SettingsGroup):
    """Samples, activity score and resource use of every lab."""

    category = "Activity monitor"

    sample_interval = Int(600, min=1, help="Seconds between activity samples").tag(
        config=True, env="JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL", unit="seconds"
    )
    retention_days = Int(7, min=1, max=365, help="Days of samples kept").tag(
        config=True, env="JUPYTERHUB_ACTIVITYMON_RETENTION_DAYS", unit="days"
    )
    half_life = Int(24, min=1, max=8760, help="Half-life of a sample's weight in the activity score").tag(
        config=True, env="JUPYTERHUB_ACTIVITYMON_HALF_LIFE", unit="hours"
    )
    inactive_after = Int(60, min=1, help="Minutes without lab activity after which a user counts as idle").tag(
        config=True, env="JUPYTERHUB_ACTIVITYMON_INACTIVE_AFTER", unit="minutes"
    )
