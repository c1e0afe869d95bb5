"""The Usage page in Chromium: table, the per-user chart drawn by Chart.js, CSV download."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from browser import open_admin_page
from harness import REPO

from stellars_hub.usage.report import epoch
from stellars_hub.usage.store import ServerSample, UsageRecords

SCREENSHOTS = REPO / "docs" / "screenshots"
HUB_ENV = {"JUPYTERHUB_USAGE_SAMPLE_INTERVAL": "600"}


def as_admin(page, hub):
    session = hub.admin_session()
    page.context.add_cookies(
        [{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path or "/"} for c in session.cookies]
    )


def write_two_weeks(hub, people: dict[str, float]) -> dict[str, list[float]]:
    """13 past days, sampled around the clock; each person works a different number of hours a
    day (weekdays only), active for half of it. Returns the expected lab hours per day."""
    today = datetime.now(timezone.utc).date()
    days = [today - timedelta(days=n) for n in range(13, 0, -1)]  # the page shows the last 14 days
    expected: dict[str, list] = {name: [] for name in people}
    store = UsageRecords.open(hub.data_dir / "usage.sqlite")
    try:
        for i, day in enumerate(days):
            hours = {name: (h + (i % 3)) if day.weekday() < 5 else 0 for name, h in people.items()}
            for name in people:
                expected[name].append(float(hours[name]))
            t = epoch(day) + 600
            while t <= epoch(day) + 86400:
                h = (t - epoch(day)) / 3600 - 8  # hours since 08:00
                store.record_pass(
                    t,
                    600,
                    [
                        ServerSample(n, "", h <= hrs / 2, 35.0, 300 * 2**20 + int(100 * h) * 2**20)
                        for n, hrs in hours.items()
                        if 0 < h <= hrs
                    ],
                )
                t += 600
            store.record_event(next(iter(people)), "", "start", epoch(day) + 8 * 3600) if day.weekday() < 5 else None
        store.record_storage(epoch(days[-1]) + 20 * 3600, [(name, int(h * 700 * 2**20)) for name, h in people.items()])
    finally:
        store.close()
    return expected


def test_usage_page_table_chart_and_csv(hub, page):
    hub.admin_session()
    people = {hub.new_user(label)[0]: base for label, base in (("ux", 6), ("uy", 3), ("uz", 1))}
    expected = write_two_weeks(hub, people)
    busiest = next(iter(people))
    as_admin(page, hub)
    page.goto(hub.hub_url + "home")
    open_admin_page(page, "usage")
    page.wait_for_selector(f'#usage-table tr[data-username="{busiest}"]')
    assert page.get_attribute("#nav-usage", "aria-current") == "page"

    row = f'#usage-table tr[data-username="{busiest}"]'
    assert float(page.text_content(f"{row} td.usage-lab")) == sum(expected[busiest])
    assert float(page.text_content(f"{row} td.usage-active")) == sum(expected[busiest]) / 2
    assert int(page.text_content(f"{row} td.usage-starts")) == sum(1 for h in expected[busiest] if h)
    assert page.text_content(f"{row} td.usage-memory") == "1.1 GB"  # 300 MB + 8 h x 100 MB
    assert page.text_content(f"{row} td.usage-storage") == "4.1 GB"  # 6 x 700 MB

    # the chart: Chart.js drew the busiest person's days (13 past days and today)
    assert page.text_content("#usage-chart-user") == busiest
    drawn = page.evaluate("() => Chart.getChart('usage-chart').data.datasets[0].data")
    assert drawn == expected[busiest] + [0]
    assert page.evaluate("""() => { const c = document.getElementById('usage-chart');
        const blank = document.createElement('canvas'); blank.width = c.width; blank.height = c.height;
        return c.toDataURL() !== blank.toDataURL(); }""")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "usage-page.png"), full_page=True)

    # another person in the chart, by clicking their row
    quiet = list(people)[2]
    page.click(f'#usage-table tr[data-username="{quiet}"] td.usage-user')
    assert page.text_content("#usage-chart-user") == quiet
    assert page.evaluate("() => Chart.getChart('usage-chart').data.datasets[0].data") == expected[quiet] + [0]

    # per week: fewer, larger bars with the same total
    page.select_option("#usage-period", "week")
    with page.expect_response(lambda r: "/api/usage?" in r.url and "period=week" in r.url):
        page.click("#usage-show")
    page.wait_for_function("() => document.getElementById('usage-page').dataset.loaded.endsWith('/week')")
    weekly = page.evaluate("() => Chart.getChart('usage-chart').data.datasets[0].data")
    assert len(weekly) <= 4 and sum(weekly) == sum(expected[quiet])

    # CSV download: what the table shows, one row per person and week
    with page.expect_download() as download:
        page.click("#usage-csv")
    text = open(download.value.path()).read()
    lines = text.splitlines()
    assert lines[0].startswith("username,period_start,period_end,lab_hours")
    mine = [line.split(",") for line in lines[1:] if line.startswith(quiet + ",")]
    assert len(mine) == len(weekly) and sum(float(r[3]) for r in mine) == sum(expected[quiet])
