"""Usage report: lab hours, active hours, starts, peak memory, CPU-hours and storage per user
and period, from the usage feature's own samples and server start/stop events (usage.sqlite)."""
