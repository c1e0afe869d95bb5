"""Named servers on the hub's home page in Chromium: JupyterHub's own list shows a user's two
servers, each running in its own container, and each running named server has a session card of
its own whose Extend acts on that server only."""

from __future__ import annotations

import re
import time

from harness import REPO, engine
from playwright.sync_api import expect

from stellars_hub import naming

SCREENSHOTS = REPO / "docs" / "screenshots"


def test_home_page_lists_named_servers(make_hub, browser):
    hub = make_hub(
        JUPYTERHUB_NAMED_SERVERS="1",
        JUPYTERHUB_NAMED_SERVERS_LIMIT="3",
        JUPYTERHUB_IDLE_CULLER_ENABLED="1",
        JUPYTERHUB_IDLE_CULLER_TIMEOUT="7200",
        JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION="4",
    )
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
        page.context.add_cookies(
            [{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path or "/"} for c in session.cookies]
        )
        page.goto(hub.hub_url + "home")
        for server in ("analysis", "teaching"):
            page.wait_for_selector(f'tr.home-server-row[data-server-name="{server}"]')
        # a session card per running named server, counting down from its own deadline
        cards = {
            s: page.locator(f'#named-sessions .named-session[data-server="{s}"]') for s in ("analysis", "teaching")
        }
        for card in cards.values():
            expect(card.locator(".session-remaining")).to_have_text(re.compile(r"^0[01]:\d\d:\d\d$"))
            expect(card.locator(".session-allowance")).to_have_text(
                "4 of 4 extension hours left for this server start."
            )
        cards["analysis"].locator(".session-hours").fill("2")
        cards["analysis"].locator(".session-extend").click()
        expect(cards["analysis"].locator(".session-message")).to_contain_text("Session extended by 2 hours")
        expect(cards["analysis"].locator(".session-remaining")).to_have_text(re.compile(r"^0[23]:\d\d:\d\d$"))
        expect(cards["analysis"].locator(".session-allowance")).to_have_text(
            "2 of 4 extension hours left for this server start."
        )
        used = {
            s: hub.api(session, "GET", f"users/{name}/servers/{s}/session-info").json()["extension_used_hours"]
            for s in ("analysis", "teaching")
        }
        assert used == {"analysis": 2, "teaching": 0}
        assert page.locator("#session-card").is_hidden()  # the default server does not run
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "named-servers.png"), full_page=True)
    finally:
        context.close()
