"""Shared pieces of the benchmarks: a real hub (the test harness's), timing, cleanup."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import TEST_ENV, Hub, remove_test_objects  # noqa: E402


@contextmanager
def running_hub(extra_args=(), **env):
    hub = Hub(
        data_dir=Path(tempfile.mkdtemp(prefix="bench-hub-")), env={**TEST_ENV, **env}, extra_args=list(extra_args)
    ).start()
    try:
        yield hub
    finally:
        hub.stop()
        remove_test_objects()


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def median(values) -> float:
    return statistics.median(values)


def wait_answering(get, deadline_s: float = 120) -> None:
    """Poll ``get()`` until it returns a status below 500."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            if get().status_code < 500:
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise TimeoutError("did not answer")
