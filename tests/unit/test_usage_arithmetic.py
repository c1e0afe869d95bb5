"""The usage report's arithmetic over a real SQLite store: periods, exact hours, unknown time
while the hub was down, starts, peak memory, storage at period end, CSV."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from stellars_hub.usage import report
from stellars_hub.usage.report import BadQuery, Period, epoch, parse_query, periods
from stellars_hub.usage.store import ServerSample, UsageRecords

D1 = date(2026, 3, 2)  # a Monday
H = 3600


def fill(store: UsageRecords, day: date, first_h: float, last_h: float, running: dict):
    """Passes every 10 minutes ending at first_h+10min .. last_h; ``running`` maps a user to
    (from_h, to_h, active_from_h, active_to_h, cpu_percent)."""
    t = epoch(day) + first_h * H + 600
    while t <= epoch(day) + last_h * H:
        h = (t - epoch(day)) / H
        rows = [
            ServerSample(u, "", a0 < h <= a1, cpu, 10**9)
            for u, (r0, r1, a0, a1, cpu) in running.items()
            if r0 < h <= r1
        ]
        store.record_pass(t, 600, rows)
        t += 600


@pytest.fixture
def store(tmp_path):
    s = UsageRecords.open(tmp_path / "usage.sqlite")
    fill(s, D1, 8, 18, {"ann": (9, 17, 10, 12, 50.0), "bob": (13, 14.5, 0, 0, 200.0)})
    s.record_pass(epoch(D1) + 15 * H, 600, [ServerSample("ann", "", False, 50.0, 2 * 10**9)])  # the peak
    # D1 + 1: the hub was down all day (no passes)
    fill(s, D1 + timedelta(days=2), 0, 24, {"ann": (0, 3, 0, 1, 100.0)})
    s.record_event("ann", "", "start", epoch(D1) + 9 * H)
    s.record_event("ann", "", "stop", epoch(D1) + 17 * H)
    s.record_event("bob", "", "start", epoch(D1) + 13 * H)
    s.record_event("ann", "", "start", epoch(D1 + timedelta(days=2)) + 1)
    s.record_storage(epoch(D1) + 12 * H, [("ann", 1000)])
    s.record_storage(epoch(D1 + timedelta(days=2)) + H, [("ann", 5000)])
    yield s
    s.close()


def test_daily_hours_are_exact(store):
    now = epoch(D1) + 30 * 86400
    rep = report.build(store, ["carl"], D1, D1 + timedelta(days=2), "day", now)
    users = {u["username"]: u for u in rep["users"]}
    assert sorted(users) == ["ann", "bob", "carl"]  # hub users plus users with records
    ann = users["ann"]["periods"]
    assert [p["start"] for p in ann] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert ann[0] == {
        "start": "2026-03-02",
        "end": "2026-03-02",
        "lab_hours": 8.0,
        "active_hours": 2.0,
        "unknown_hours": 14.0,
        "starts": 1,
        "peak_memory_bytes": 2 * 10**9,
        "cpu_hours": 4.0,
        "storage_bytes": 1000,
    }
    assert ann[1] == {
        "start": "2026-03-03",
        "end": "2026-03-03",
        "lab_hours": 0.0,
        "active_hours": 0.0,
        "unknown_hours": 24.0,
        "starts": 0,
        "peak_memory_bytes": None,
        "cpu_hours": 0.0,
        "storage_bytes": 1000,
    }
    assert (
        ann[2]["lab_hours"],
        ann[2]["active_hours"],
        ann[2]["unknown_hours"],
        ann[2]["starts"],
        ann[2]["cpu_hours"],
        ann[2]["storage_bytes"],
    ) == (3.0, 1.0, 0.0, 1, 3.0, 5000)
    bob = users["bob"]["totals"]
    assert (bob["lab_hours"], bob["active_hours"], bob["cpu_hours"], bob["starts"], bob["storage_bytes"]) == (
        1.5,
        0.0,
        3.0,
        1,
        None,
    )
    assert users["ann"]["totals"]["lab_hours"] == 11.0 and users["ann"]["totals"]["unknown_hours"] == 38.0
    assert users["carl"]["totals"]["lab_hours"] == 0.0
    assert rep["unknown_hours"] == 38.0


def test_group_report_lists_only_its_members(store):
    rep = report.build(store, ["bob"], D1, D1, "range", epoch(D1) + 86400, only_these=True)
    assert [u["username"] for u in rep["users"]] == ["bob"]


def test_future_time_is_not_unknown(store):
    now = epoch(D1) + 18 * H  # the report is asked for at 18:00 on D1
    rep = report.build(store, [], D1, D1, "day", now)
    assert rep["unknown_hours"] == 8.0  # 00:00-08:00; 18:00-24:00 has not happened yet


def test_periods_cut_on_calendar_boundaries():
    assert periods(date(2026, 3, 4), date(2026, 3, 17), "week") == [
        Period(date(2026, 3, 4), date(2026, 3, 8)),
        Period(date(2026, 3, 9), date(2026, 3, 15)),
        Period(date(2026, 3, 16), date(2026, 3, 17)),
    ]
    assert periods(date(2026, 11, 20), date(2027, 1, 10), "month") == [
        Period(date(2026, 11, 20), date(2026, 11, 30)),
        Period(date(2026, 12, 1), date(2026, 12, 31)),
        Period(date(2027, 1, 1), date(2027, 1, 10)),
    ]
    assert len(periods(date(2026, 1, 1), date(2026, 12, 31), "day")) == 365
    assert periods(date(2026, 1, 1), date(2026, 12, 31), "range") == [Period(date(2026, 1, 1), date(2026, 12, 31))]


@pytest.mark.parametrize(
    "args, field",
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"period": "year"}, "period"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "from"),
        ({"from": "2000-01-01", "to": "2026-01-01"}, "to"),
    ],
)
def test_bad_queries_name_the_field(args, field):
    with pytest.raises(BadQuery, match=f"^{field}:"):
        parse_query(args, date(2026, 3, 10))


def test_default_range_is_the_last_30_days():
    assert parse_query({}, date(2026, 3, 30)) == (date(2026, 3, 1), date(2026, 3, 30), "day")


def test_csv_rows_and_formula_safety(store):
    rep = report.build(store, ["=cmd"], D1, D1 + timedelta(days=1), "day", epoch(D1) + 10 * 86400)
    lines = report.to_csv(rep).splitlines()
    assert lines[0] == (
        "username,period_start,period_end,lab_hours,active_hours,unknown_hours,starts,"
        "peak_memory_bytes,cpu_hours,storage_bytes"
    )
    assert "'=cmd,2026-03-02,2026-03-02,0.0,0.0,14.0,0,,0.0," in lines
    assert "ann,2026-03-02,2026-03-02,8.0,2.0,14.0,1,2000000000,4.0,1000" in lines
    assert "ann,2026-03-03,2026-03-03,0.0,0.0,24.0,0,,0.0,1000" in lines
    assert len(lines) == 1 + 3 * 2


def test_retention_prunes_but_keeps_the_last_storage_figure(store):
    cut = epoch(D1 + timedelta(days=2))
    store.record_pass(cut + 30 * 86400, 600, [], prune_before=cut)
    rep = report.build(store, [], D1, D1, "day", cut + 40 * 86400)
    assert rep["users"] == [] or all(u["totals"]["lab_hours"] == 0 for u in rep["users"])
    later = report.build(store, [], D1 + timedelta(days=3), D1 + timedelta(days=3), "day", cut + 40 * 86400)
    ann = next(u for u in later["users"] if u["username"] == "ann")
    assert ann["totals"]["storage_bytes"] == 5000


def test_rename_moves_every_record(store):
    store.rename("ann", "anna")
    rep = report.build(store, [], D1, D1, "day", epoch(D1) + 86400)
    names = {u["username"]: u for u in rep["users"]}
    assert "ann" not in names and names["anna"]["totals"]["lab_hours"] == 8.0
