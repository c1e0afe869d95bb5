"""Scheduled backups of every user's volumes (the format of scripts/volume-backup.sh), kept in
generations, unchanged volumes skipped, results visible; admin restore of one volume."""

# what other features may use: a user's volumes removed for good take their archives along
from .lifecycle import forget_volumes  # noqa: E402,F401
