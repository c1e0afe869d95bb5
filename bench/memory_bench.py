"""Hub resident memory with 1000 users in the database and a week of activity samples each,
vs 10 users (the same samples per user), after the pages an admin opens have been served once.

Run alone: ``.venv/bin/python -m bench memory_bench``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .activity_bench import _hub_with_users
from .pages_bench import _hub_pid


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _settled_rss(hub) -> int:
    """RSS once the hub has served what an admin looks at: every user listed, the activity
    report, the admin page."""
    admin = hub.admin_session()
    offset = 0
    while True:  # the admin page lists users page by page
        r = hub.api(admin, "GET", f"users?offset={offset}&limit=200")
        assert r.status_code == 200, r.text
        if len(r.json()) < 200:
            break
        offset += 200
    assert hub.api(admin, "GET", "activity").status_code == 200
    admin.get(hub.hub_url + "admin", timeout=120)
    admin.get(hub.hub_url + "activity", timeout=120)
    time.sleep(2)
    return _rss_bytes(_hub_pid(hub))


def run():
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        for users in (10, 1000):
            hub, _ = _hub_with_users(Path(tmp) / str(users), users)
            try:
                sizes[users] = _settled_rss(hub)
            finally:
                hub.stop()
    mb = {k: v / 2**20 for k, v in sizes.items()}
    return [
        (
            "hub RSS, 1000 users with a week of samples / 10 users",
            sizes[1000] / sizes[10],
            f"{mb[1000]:.0f} MB vs {mb[10]:.0f} MB, after users list, activity report and admin pages",
            "<= 1.5",
        )
    ]
