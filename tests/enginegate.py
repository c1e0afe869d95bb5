"""A switchable gateway to the Docker engine's socket.

A hub pointed at it (DOCKER_HOST=unix://<gate>) loses its engine when the gate closes, while
the real engine keeps serving everybody else (other tests, other hubs). It also counts the
engine API requests that pass (benchmarks count engine calls with it), and can hold one request
back (``hold``): the hub waits on it, a test does something meanwhile (kills the hub), then the
request goes on to the engine or is dropped (``release``).
"""

from __future__ import annotations

import os
import re
import socket
import threading

REAL_SOCKET = "/var/run/docker.sock"


class EngineGate:
    REQUEST = re.compile(rb"(GET|POST|PUT|DELETE|HEAD) (/[^ ]*) HTTP/1\.[01]\r\n")

    def __init__(self, path: str):
        self.path = path
        self.paths: list[str] = []  # request paths seen, in order
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._hold: tuple[re.Pattern, threading.Event, threading.Event, list[bool]] | None = None
        self._holding: tuple[re.Pattern, threading.Event, threading.Event, list[bool]] | None = None

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def count(self, pattern: str = "") -> int:
        with self._lock:
            return sum(1 for p in self.paths if re.search(pattern, p))

    def hold(self, method_and_path: str) -> threading.Event:
        """Hold back the next request whose ``METHOD /path`` matches (a regular expression);
        the answer is set once it is being held."""
        held = threading.Event()
        self._hold = (re.compile(method_and_path), held, threading.Event(), [True])
        return held

    def release(self, forward: bool = True) -> None:
        """Let the held request go on to the engine (``forward``), or drop its connection; a
        hold nothing matched yet is called off."""
        hold, self._hold = self._hold or self._holding, None
        self._holding = None
        if hold is not None:
            _, _, go, send = hold
            send[0] = forward
            go.set()

    def _held_back(self, data: bytes) -> str:
        """Wait here while ``data`` is the request to hold: "forward" or "drop" it then ("" for
        any other request)."""
        hold = self._hold
        if hold is None:
            return ""
        pattern, held, go, send = hold
        if not any(pattern.search(f"{m.group(1).decode()} {m.group(2).decode()}") for m in self.REQUEST.finditer(data)):
            return ""
        self._hold, self._holding = None, hold  # one request only
        held.set()
        go.wait()
        return "forward" if send[0] else "drop"

    def open(self) -> EngineGate:
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(64)
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        return self

    def close(self) -> None:
        """The engine 'stops': new connections are refused, open ones are cut."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if os.path.exists(self.path):
            os.unlink(self.path)
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(REAL_SOCKET)
            with self._lock:
                self._conns.update((client, upstream))
            for a, b, requests in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(a, b, requests), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, requests: bool) -> None:
        ends: tuple[socket.socket, ...] = (src, dst)
        try:
            while data := src.recv(65536):
                if requests:
                    found = [m.group(2).decode(errors="replace") for m in self.REQUEST.finditer(data)]
                    with self._lock:
                        self.paths.extend(found)
                    held = self._held_back(data)
                    if held == "drop":
                        break
                    if held == "forward":
                        # its client may be gone (a killed hub): the engine must not see the
                        # connection close before it answered, or it cancels the request
                        ends = (src,)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in ends:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def held_at_start(gate: EngineGate, act, look):
    """What ``look()`` sees while the hub's next container start waits at the gate: ``act`` (a
    call that makes the hub start a lab) runs on a thread; returns (what was seen, act's answer).
    A lab that cannot start is removed once its start fails, so its container can only be
    inspected between its creation and its start."""
    held = gate.hold(r"^POST /v[\d.]+/containers/[^/]+/start")
    answer: dict = {}
    worker = threading.Thread(target=lambda: answer.setdefault("value", act()), daemon=True)
    worker.start()
    try:
        assert held.wait(120), "the hub never asked the engine to start the lab"
        seen = look()
    finally:
        gate.release()
    worker.join(180)
    return seen, answer.get("value")
