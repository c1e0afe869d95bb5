"""The Activity page in Chromium: the table, sorting, refresh and the reset confirmation."""

from __future__ import annotations

import math
import time

from browser import open_admin_page


def as_admin(page, hub):
    """Hand the admin's logged-in cookies to the browser (a browser login would spawn a lab)."""
    session = hub.admin_session()
    page.context.add_cookies(
        [{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path or "/"} for c in session.cookies]
    )


def names_in_table(page) -> list[str]:
    return page.eval_on_selector_all("#activity-table tbody tr", "rows => rows.map(r => r.dataset.username)")


def samples_of(page, name) -> int:
    return int(page.text_content(f'#activity-table tr[data-username="{name}"] td.activity-samples'))


def test_activity_table_sorting_refresh_and_reset(make_hub, page):
    hub = make_hub(JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL="1")
    hub.admin_session()
    running, session = hub.new_user("ea")
    stopped, _ = hub.new_user("eb")
    hub.start_server(session, running)
    time.sleep(3)  # a few sampler passes
    as_admin(page, hub)

    page.goto(hub.hub_url + "home")
    open_admin_page(page, "activity")
    page.wait_for_selector(f'#activity-table tr[data-username="{running}"]')
    row = f'#activity-table tr[data-username="{running}"]'
    assert page.get_attribute(f"{row} td.activity-status", "data-status") == "green"
    assert (
        page.get_attribute(f'#activity-table tr[data-username="{stopped}"] td.activity-status', "data-status") == "red"
    )
    assert page.text_content(f"{row} td.activity-cpu").endswith("%")
    assert "MB" in page.text_content(f"{row} td.activity-memory")
    assert page.text_content(f'#activity-table tr[data-username="{stopped}"] td.activity-cpu') == ""
    score = float(page.get_attribute(f"{row} td.activity-score", "title").rstrip(" %"))
    assert score > 50  # mostly active since its lab started (samples before the start are idle)
    assert page.locator(f"{row} td.activity-score .activity-bar span").count() == 5
    assert page.locator(f"{row} td.activity-score .activity-bar span.on").count() == math.floor(
        score / 20 + 0.5
    )  # as Math.round
    assert (
        page.locator(f'#activity-table tr[data-username="{stopped}"] td.activity-score .activity-bar span.on').count()
        == 0
    )
    assert "measured" in page.text_content("#activity-measured")

    # sorting by user name, both directions
    page.click('#activity-table th[data-sort="username"]')
    assert page.get_attribute('#activity-table th[data-sort="username"]', "aria-sort") == "ascending"
    names = names_in_table(page)
    assert names == sorted(names) and {running, stopped, hub.admin} <= set(names)
    page.click('#activity-table th[data-sort="username"]')
    assert page.get_attribute('#activity-table th[data-sort="username"]', "aria-sort") == "descending"
    assert names_in_table(page) == sorted(names, reverse=True)
    # by status: the running lab first when descending
    page.click('#activity-table th[data-sort="status"]')
    order = names_in_table(page)
    assert (
        order[0] == running
        if page.get_attribute('#activity-table th[data-sort="status"]', "aria-sort") == "descending"
        else order[-1] == running
    )

    # refresh: the lab stops behind the page's back; Refresh shows it
    hub.stop_server(session, running)
    with page.expect_response(lambda r: r.url.endswith("/api/activity") and r.request.method == "GET") as resp:
        page.click("#activity-refresh")
    assert resp.value.status == 200
    page.wait_for_selector(f'{row} td.activity-status[data-status="red"]')
    page.wait_for_selector("#activity-refresh:not([disabled])")
    assert page.locator("#activity-refresh .spinner-border.d-none").count() == 1  # spinner gone again

    # reset: Cancel keeps the history, confirming clears it
    with page.expect_response(lambda r: r.url.endswith("/api/activity")):
        page.click("#activity-refresh")
    before = samples_of(page, stopped)
    assert before >= 3
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.click("#activity-reset")
    page.wait_for_selector("#activity-reset-dialog.show")
    page.click("#activity-reset-dialog button:has-text('Cancel')")
    page.wait_for_selector("#activity-reset-dialog", state="hidden")
    assert posts == []
    page.click("#activity-reset")
    page.wait_for_selector("#activity-reset-dialog.show")
    with page.expect_response(lambda r: r.url.endswith("/api/activity/reset")) as resp:
        page.click("#activity-reset-confirm")
    assert resp.value.status == 200 and resp.value.json()["samples_removed"] > 0
    page.wait_for_selector("#activity-reset-dialog", state="hidden")
    page.wait_for_function(
        f"""() => {{ const c = document.querySelector('#activity-table tr[data-username="{stopped}"] td.activity-samples');
                    return c && Number(c.textContent) < {before}; }}"""
    )
