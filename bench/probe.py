"""An unrelated user's hub API calls, from a process of their own.

The class bench's browsers are threads of the bench process; timing the unrelated user in that
process would also time its wait for the interpreter lock behind thirty browsers. Run as
``python -m bench.probe URL TOKEN``: it calls URL every 0.1 s until its standard input closes
(or 15 minutes pass) and then prints one JSON list of (epoch at the call, seconds it took).
"""

from __future__ import annotations

import json
import sys
import threading
import time

import requests

SPACING = 0.1
LONGEST = 900.0  # seconds: stops by itself even if the bench never closes its input


def main(url: str, token: str) -> None:
    stop = threading.Event()

    def stop_at_end_of_input():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=stop_at_end_of_input, daemon=True).start()
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    found = []
    end = time.monotonic() + LONGEST
    while not stop.is_set() and time.monotonic() < end:
        at, start = time.time(), time.perf_counter()
        r = session.get(url, timeout=120)
        found.append((at, time.perf_counter() - start))
        if r.status_code != 200:
            sys.exit(f"HTTP {r.status_code} from {url}: {r.text[:200]}")
        stop.wait(SPACING)
    print(json.dumps(found))


if __name__ == "__main__":
    main(*sys.argv[1:3])
