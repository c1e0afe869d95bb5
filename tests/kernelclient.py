"""Run code in a lab's kernel as a notebook would, over the lab's REST API and kernel websocket
(through the hub's proxy, with a token of the lab's owner): for tests that need a kernel busy
without a browser."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from datetime import datetime, timezone

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


def run_cell(lab_url: str, token: str, code: str, timeout: float = 120) -> str:
    """Start a kernel in the lab at ``lab_url`` (``.../user/<name>/``), send it ``code`` and return
    its id once it reports busy; the code keeps running after this returns."""
    r = requests.post(
        lab_url + "api/kernels", json={"name": "python3"}, timeout=timeout, headers={"Authorization": f"token {token}"}
    )
    assert r.status_code in (200, 201), r.text
    kernel = r.json()["id"]
    ws_url = lab_url.replace("http://", "ws://").replace("https://", "wss://") + f"api/kernels/{kernel}/channels"
    errors: list[BaseException] = []

    async def send() -> None:
        conn = await websocket_connect(
            HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}, request_timeout=timeout)
        )
        msg_id = uuid.uuid4().hex
        conn.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": "test",
                        "session": uuid.uuid4().hex,
                        "msg_type": "execute_request",
                        "version": "5.3",
                        "date": datetime.now(timezone.utc).isoformat(),
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        while True:
            raw = await asyncio.wait_for(conn.read_message(), timeout)
            if raw is None:
                raise AssertionError("the kernel's websocket closed before the code started")
            m = json.loads(raw)
            if (
                m.get("msg_type") == "status"
                and m["content"].get("execution_state") == "busy"
                and m.get("parent_header", {}).get("msg_id") == msg_id
            ):
                break
        conn.close()

    def in_thread() -> None:  # a loop of its own: the test process may already run one
        try:
            asyncio.run(send())
        except BaseException as exc:  # handed to the caller
            errors.append(exc)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(timeout + 10)
    if errors:
        raise errors[0]
    return kernel
