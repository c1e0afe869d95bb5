"""The backups feature's settings (``c.Backups.*``)."""

from ..settings import Int, SettingsGroup, Unicode


class Backups(SettingsGroup):
    """Scheduled backups of every user's volumes, the shared volume and the hub's own state."""

    category = "Scheduled backups"

    interval = Int(
        0,
        min=0,
        help="Seconds between backup rounds of every user's volumes, the shared volume and the hub's own state (0 = no scheduled backups)",
    ).tag(config=True, env="JUPYTERHUB_BACKUP_INTERVAL", unit="seconds")
    target = Unicode(
        "jupyterhub_backups", help="Where archives go: a Docker volume name or an absolute path on the engine's host"
    ).tag(config=True, env="JUPYTERHUB_BACKUP_TARGET")
    keep = Int(7, min=1, max=1000, help="Archives kept per volume (older generations are deleted)").tag(
        config=True, env="JUPYTERHUB_BACKUP_KEEP"
    )
    image = Unicode(
        "stellars-hub:dev",
        help="Image that runs tar for backups and restores (any image with GNU tar, find and coreutils)",
    ).tag(config=True, env="JUPYTERHUB_BACKUP_IMAGE")
