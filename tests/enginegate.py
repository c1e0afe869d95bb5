"""A switchable gateway to the Docker engine's socket.

A hub pointed at it (DOCKER_HOST=unix://<gate>) loses its engine when the gate closes, while
the real engine keeps serving everybody else (other tests, other hubs). It also counts the
engine API requests that pass (benchmarks count engine calls with it).
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

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def count(self, pattern: str = "") -> int:
        with self._lock:
            return sum(1 for p in self.paths if re.search(pattern, p))

    def open(self) -> "EngineGate":
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
        try:
            while data := src.recv(65536):
                if requests:
                    found = [m.group(2).decode(errors="replace") for m in self.REQUEST.finditer(data)]
                    with self._lock:
                        self.paths.extend(found)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
