"""Batch actions: stop, start or restart the labs of many users at once, with a preview,
per-user progress and results, bounded concurrency, an audit line per user, cancellation and an
optional notification first."""
