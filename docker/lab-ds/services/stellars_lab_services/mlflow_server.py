"""The lab's MLflow tracking server: one per lab, started on first use.

``python -m stellars_lab_services.mlflow_server`` is the command of the lab's jupyter-server-proxy
entry "mlflow" (started when its tile or /user/<name>/mlflow/ is first opened, and supervised
by the proxy). ``--once`` is how a notebook's first MLflow request starts it (mlflow_start.py):
the proxy never sees that request. A lock file held by the running server makes sure one server
runs whoever starts it: the proxy's command, finding the server already running, waits while it
runs and serves after it (the proxy sees the port answer either way); ``--once`` just returns.

The server: tracking store under the user's home (its own volume), listening where the hub's
MLFLOW_TRACKING_URI points (MLFLOW_HOST:MLFLOW_PORT, the lab's loopback).
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

STORE = Path.home() / ".mlflow"


def command() -> list[str]:
    return [
        "mlflow", "server",
        "--host", os.environ.get("MLFLOW_HOST", "127.0.0.1"),
        "--port", os.environ.get("MLFLOW_PORT", "5000"),
        "--workers", os.environ.get("MLFLOW_WORKERS", "1"),
        "--backend-store-uri", f"sqlite:///{STORE}/mlflow.db",
        "--artifacts-destination", str(STORE / "artifacts"),
    ]  # fmt: skip


def main(argv: list[str]) -> int:
    STORE.mkdir(parents=True, exist_ok=True)
    lock = open(STORE / "server.lock", "w")  # noqa: SIM115  (held by the server until it exits)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if "--once" in argv:
            return 0  # it runs (or is starting) already
        fcntl.flock(lock, fcntl.LOCK_EX)  # wait while another process serves, then serve
    os.set_inheritable(lock.fileno(), True)
    # without MLflow's job runner and its seven queue consumers (GenAI evaluation jobs, not
    # tracking): a third of the memory and half the CPU of a start
    os.environ["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    cmd = command()
    os.execvp(cmd[0], cmd)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
