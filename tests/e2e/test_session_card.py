"""The session card in Chromium: it counts down, turns amber then red, extends, reports a
truncated extension and the end of the allowance."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from urllib.parse import quote

from harness import ARTIFACTS, PASSWORD

# 30 min 12 s: the card starts amber (under 1 h) and turns red (under 30 min) a few seconds later
TIMEOUT = 1812
CARD_ENV = {
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": str(TIMEOUT),
    "JUPYTERHUB_IDLE_CULLER_INTERVAL": "600",
    "JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION": "3",
}


def seconds(text: str) -> int:
    m = re.fullmatch(r"(?:(\d+) d )?(\d\d):(\d\d):(\d\d)", text.strip())
    assert m, f"not a countdown: {text!r}"
    d, h, mi, s = (int(x or 0) for x in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def test_session_card_counts_down_changes_colour_and_extends(make_hub, page):
    hub = make_hub(**CARD_ENV)
    name, session = hub.new_user("card")
    hub.start_server(session, name)
    # fresh lab activity right before the page loads: about 30 min 12 s are left
    r = hub.api(
        None,
        "POST",
        f"users/{name}/activity",
        token=hub.token_for(name),
        json={"servers": {"": {"last_activity": datetime.now(timezone.utc).isoformat()}}},
    )
    assert r.status_code in (200, 204), r.text

    session_path = "/" + (hub.hub_url + "session").split("/", 3)[3]
    page.goto(hub.hub_url + "login?next=" + quote(session_path))
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url("**/hub/session")

    card = page.locator("#session-card")
    remaining = page.locator("#session-remaining")
    card.wait_for(state="visible")
    page.wait_for_function("document.getElementById('session-remaining').textContent.includes(':')")
    assert card.get_attribute("data-level") == "amber"
    amber_colour = remaining.evaluate("e => getComputedStyle(e).color")
    first = seconds(remaining.inner_text())
    assert 1800 < first <= TIMEOUT
    assert "stopped after 30 minutes 12 seconds without activity" in page.locator("#session-why").inner_text()
    assert page.locator("#session-allowance").inner_text() == "3 of 3 extension hours left for this server start."

    # it counts down live
    time.sleep(2.5)
    assert seconds(remaining.inner_text()) < first

    # under 30 minutes: red
    page.wait_for_function("document.getElementById('session-card').dataset.level === 'red'", timeout=30_000)
    assert seconds(remaining.inner_text()) < 1800
    red_colour = remaining.evaluate("e => getComputedStyle(e).color")
    assert red_colour != amber_colour
    border = card.evaluate("e => getComputedStyle(e).borderTopColor")
    assert border == red_colour  # the card's frame takes the same danger colour

    # extend by one hour: back above an hour, no colour
    page.fill("#session-extend-hours", "1")
    page.click("#session-extend-button")
    message = page.locator("#session-message")
    message.wait_for(state="visible")
    page.wait_for_function("document.getElementById('session-message').textContent.includes('extended')")
    assert "Session extended by 1 hour; 2 hours of 3 left" in message.inner_text()
    assert card.get_attribute("data-level") == "normal"
    assert 3600 < seconds(remaining.inner_text()) <= 3600 + 1800
    assert page.locator("#session-allowance").inner_text() == "2 of 3 extension hours left for this server start."
    normal_colour = remaining.evaluate("e => getComputedStyle(e).color")
    assert normal_colour not in (amber_colour, red_colour)

    # ask for more than is left: cut to what is left, and the user is told so
    page.fill("#session-extend-hours", "5")
    page.click("#session-extend-button")
    page.wait_for_function("document.getElementById('session-message').textContent.includes('Only')")
    assert "Only 2 hours of the allowance were left" in message.inner_text()
    assert "alert-warning" in message.get_attribute("class")
    assert 3 * 3600 < seconds(remaining.inner_text()) <= 3 * 3600 + 1800

    # the limit: the control is refused and says why
    allowance = page.locator("#session-allowance").inner_text()
    assert "You have used all 3 extension hours for this server start" in allowance
    assert "starts afresh" in allowance
    assert page.locator("#session-extend-button").is_disabled()
    assert page.locator("#session-extend-hours").is_disabled()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "session-card.png"), full_page=True)

    # what the page shows is what the API (and so the culler) says
    info = hub.api(session, "GET", f"users/{name}/session-info").json()
    assert info["extension_used_hours"] == 3 and info["extension_available_hours"] == 0
    assert abs(info["time_remaining_seconds"] - seconds(remaining.inner_text())) <= 3

    # once the server is stopped there is no countdown to show
    hub.stop_server(session, name)
    page.evaluate("window.stellarsSessionCard.refresh()")
    card.wait_for(state="hidden")
    assert page.locator("#session-none").is_visible()
