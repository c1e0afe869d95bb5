"""Batch actions in Chromium: tick three users, preview, restart them; one lab fails and shows
its error, the others finish."""

from __future__ import annotations

from browser import open_admin_page
from harness import REPO, engine

from stellars_hub import naming

SCREENSHOTS = REPO / "docs" / "screenshots"


def as_admin(page, hub):
    session = hub.admin_session()
    page.context.add_cookies(
        [{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path or "/"} for c in session.cookies]
    )


def test_batch_restart_with_one_failing(hub, page):
    hub.admin_session()
    people = [hub.new_user(label) for label in ("pa", "pb", "pc")]
    idle, _ = hub.new_user("pd")
    for name, session in people:
        hub.start_server(session, name)
    names = [n for n, _ in people]
    as_admin(page, hub)
    page.goto(hub.hub_url + "home")
    open_admin_page(page, "batch")
    for name in names + [idle]:
        page.check(f'#batch-table tr[data-username="{name}"] input.batch-pick')
    page.select_option("#batch-action", "restart")
    page.click("#batch-preview")
    page.wait_for_selector("#batch-summary:not(.d-none)")
    assert page.text_content("#batch-summary").startswith("3 of 4 server(s)")
    assert page.text_content(f'#batch-table tr[data-username="{idle}"] td.batch-status') == "skipped: not running"
    assert page.text_content(f'#batch-table tr[data-username="{names[0]}"] td.batch-status') == "will restart"

    broken = names[0]  # its lab dies in the engine behind the hub's back
    engine().containers.get(naming.container_name(broken)).kill()
    page.click("#batch-run")
    page.wait_for_selector("#batch-page[data-finished]", timeout=300_000)
    assert page.text_content("#batch-summary") == "Finished: 2 done, 1 failed, 0 cancelled."
    failed = page.text_content(f'#batch-table tr[data-username="{broken}"] td.batch-status')
    assert failed.startswith("failed: ") and "not running in the engine" in failed
    for name in names[1:]:
        assert page.text_content(f'#batch-table tr[data-username="{name}"] td.batch-status') == "done"
    assert page.text_content(f'#batch-table tr[data-username="{idle}"] td.batch-status') == "skipped: not running"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "batch-page.png"), full_page=True)
