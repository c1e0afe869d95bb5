"""Named servers on the hub's home page in Chromium: JupyterHub's own list shows a user's two
servers, each running in its own container."""

from __future__ import annotations

import time

from harness import REPO, engine

from stellars_hub import naming

SCREENSHOTS = REPO / "docs" / "screenshots"


def test_home_page_lists_named_servers(make_hub, browser):
    hub = make_hub(JUPYTERHUB_NAMED_SERVERS="1", JUPYTERHUB_NAMED_SERVERS_LIMIT="3")
    hub.admin_session()
    name, session = hub.new_user("nh")
    for server in ("analysis", "teaching"):
        assert hub.api(session, "POST", f"users/{name}/servers/{server}").status_code in (201, 202)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        servers = hub.api(session, "GET", f"users/{name}").json()["servers"]
        if all(servers.get(s, {}).get("ready") for s in ("analysis", "teaching")):
            break
        time.sleep(1)
    for server in ("analysis", "teaching"):
        assert engine().containers.get(naming.server_container_name(name, server)).status == "running"

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.context.add_cookies([{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path or "/"}
                                  for c in session.cookies])
        page.goto(hub.hub_url + "home")
        for server in ("analysis", "teaching"):
            page.wait_for_selector(f'tr.home-server-row[data-server-name="{server}"]')
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "named-servers.png"), full_page=True)
    finally:
        context.close()
