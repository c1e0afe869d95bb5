"""The home page while its server starts, in Chromium: it follows the server's progress stream
(the one JupyterHub's spawn page reads) instead of asking the hub every 3 s, and turns to
"Server running" with its Restart button when the stream says the lab is ready."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from browser import login
from harness import PASSWORD


def test_home_page_follows_a_start_through_its_progress_stream(hub, page):
    name, session = hub.new_user("sp")
    login(page, hub, name, PASSWORD)  # JupyterHub starts the lab after login
    page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
    hub.stop_server(session, name)
    page.goto(hub.hub_url + "home")
    page.wait_for_selector("#manage-volumes:not(.d-none)")  # stopped

    asked = []  # every hub API call the page makes from now on
    page.on("request", lambda r: asked.append(r.url) if "/hub/api/" in r.url else None)
    # started elsewhere (another tab); the API call itself waits for a quick start to finish
    starting = ThreadPoolExecutor(1).submit(hub.api, session, "POST", f"users/{name}/server")
    deadline = time.monotonic() + 60
    while hub.api(session, "GET", f"users/{name}").json().get("pending") != "spawn":
        assert time.monotonic() < deadline and not starting.done(), "the start was never pending"
        time.sleep(0.05)
    page.click("#selfservice-state")  # any click on the controls makes the page look at once

    page.wait_for_selector("#restart-server:not(.d-none)", timeout=120_000)
    assert page.inner_text("#selfservice-state") == "Server running"
    assert page.is_hidden("#manage-volumes")
    streams = [u for u in asked if f"/api/users/{name}/server/progress?_xsrf=" in u]
    assert len(streams) == 1, asked  # one stream for the whole start
    assert starting.result().status_code in (201, 202)
