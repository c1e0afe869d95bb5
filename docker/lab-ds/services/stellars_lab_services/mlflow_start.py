"""A notebook's first MLflow request starts the lab's MLflow server.

The server starts on first use (mlflow_server.py): its tile and /user/<name>/mlflow/ start it
through the lab's proxy, but a notebook logs a run to MLFLOW_TRACKING_URI (the lab's loopback,
MLFLOW_PORT), which the proxy never sees. MLflow asks every registered request header provider
before each request it sends: this one adds no header, but when the tracking URI is the lab's own
server and nothing answers there yet, it starts the server and lets the request go ahead once
the server answers. Nothing runs (no CPU, no memory) until MLflow is used.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import mlflow
from mlflow.tracking.request_header.abstract_request_header_provider import RequestHeaderProvider

from .mlflow_server import STORE

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_failed_at = 0.0
_checked_owner = False
RETRY_AFTER_S = 60  # a start that failed is not tried again at every request
START_TIMEOUT_S = 180  # a first start creates the store's tables
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def lab_server_port() -> int | None:
    """The port of the lab's own MLflow server when the tracking URI names it and it is on."""
    if os.environ.get("JUPYTERHUB_SERVICE_MLFLOW", "1") != "1":
        return None
    uri = urllib.parse.urlsplit(mlflow.get_tracking_uri())
    port = os.environ.get("MLFLOW_PORT", "5000")
    if uri.scheme != "http" or uri.hostname not in LOOPBACK or str(uri.port) != port:
        return None
    return int(port)


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_and_wait(port: int) -> bool:
    """Start the server in a session of its own (it outlives this process, as it would when
    the proxy starts it) unless one runs, and wait until it answers."""
    STORE.mkdir(parents=True, exist_ok=True)
    with open(STORE / "server.log", "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "stellars_lab_services.mlflow_server", "--once"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if answers(port):
            return True
        time.sleep(0.25)
    return False


def serves_here() -> bool:
    """Whether the server answering is this lab's: it holds the store's lock while it runs."""
    STORE.mkdir(parents=True, exist_ok=True)
    with open(STORE / "server.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def ensure_started() -> None:
    global _failed_at, _checked_owner
    port = lab_server_port()
    if port is None:
        return
    if answers(port):
        if not _checked_owner:  # once: labs on host networking share one loopback
            _checked_owner = True
            if not serves_here():
                _log.warning("Port %s answers, but not with this lab's MLflow server (labs on host "
                             "networking share the loopback)", port)
        return
    with _lock:
        if answers(port) or time.monotonic() - _failed_at < RETRY_AFTER_S:
            return
        _log.warning("Starting this lab's MLflow server (its first use since the lab started)")
        if not start_and_wait(port):  # MLflow's own request then reports the server unreachable
            _failed_at = time.monotonic()
            _log.warning("This lab's MLflow server did not start; its log: %s", STORE / "server.log")


class StartLabMlflow(RequestHeaderProvider):
    """Registered as an ``mlflow.request_header_provider``; adds no header."""

    def in_context(self) -> bool:
        ensure_started()
        return False

    def request_headers(self) -> dict:
        return {}
