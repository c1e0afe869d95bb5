"""Idle culling that users can extend and that warns before it stops a lab.

Public to other features: ``seconds_until_stop`` (the same deadline the culler applies) and the
extension store it reads (``extension_store``).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path


def extension_store(platform=None, data_dir=None):
    """The extensions store: the hub's (held by its ``platform``), or one of its own on the
    file in ``data_dir`` (a process without a platform)."""
    from .store import ExtensionStore, store_for

    if platform is not None:
        return store_for(platform)
    return ExtensionStore(Path(data_dir) / ExtensionStore.FILE_NAME)


async def seconds_until_stop(
    settings, extensions, username: str, last_activity, started, now: datetime, server: str = ""
) -> int | None:
    """Seconds until the culler stops this running server (0 = due), extensions included;
    None when culling is off, the server has not started or no limit applies to its start. ``settings``: the hub's
    (``platform.settings``). ``server``: '' for the default
    server, else a named server's name. ``extensions``: the extension store (read on its file's
    own thread)."""
    from . import deadline as dl
    from .config import IdleCuller
    from .sessions import deadline_of

    policy = dl.Policy.from_config(settings(IdleCuller))
    if not policy.enabled or started is None:
        return None
    d = await deadline_of(policy, extensions, username, server, started, last_activity)
    return None if d.never else max(0, math.floor(d.remaining(now)))
