"""Scheduled backups of every user's volumes (the format of scripts/volume-backup.sh), kept in
generations, unchanged volumes skipped, results visible; admin restore of one volume."""
