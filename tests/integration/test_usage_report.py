"""The usage report on a real hub: records over several past days (written by the test into the
hub's usage.sqlite), the API with exact hours, CSV, group filter, scopes, bad input (what the hub
records for a real lab is a scenario on both backends: tests/scenarios/test_running_labs.py)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from stellars_hub.usage.report import epoch
from stellars_hub.usage.store import ServerSample, UsageRecords

HUB_ENV = {"JUPYTERHUB_USAGE_SAMPLE_INTERVAL": "2"}
H = 3600
TODAY = datetime.now(timezone.utc).date()
D1 = TODAY - timedelta(days=6)


def write_days(hub, ann: str, bob: str) -> None:
    """D1: the hub sampled 08:00-18:00; ann ran 09-17 (active 10-12, half a core), bob 13-14:30
    (two cores). D1+1: the hub was down. D1+2: sampled all day; ann ran 00-03 (active 00-01)."""
    store = UsageRecords.open(hub.data_dir / "usage.sqlite")
    try:

        def day(d, first_h, last_h, running):
            t = epoch(d) + first_h * H + 600
            while t <= epoch(d) + last_h * H:
                h = (t - epoch(d)) / H
                store.record_pass(
                    t,
                    600,
                    [
                        ServerSample(u, "", a0 < h <= a1, cpu, 10**9 + int(h))
                        for u, (r0, r1, a0, a1, cpu) in running.items()
                        if r0 < h <= r1
                    ],
                )
                t += 600

        day(D1, 8, 18, {ann: (9, 17, 10, 12, 50.0), bob: (13, 14.5, 0, 0, 200.0)})
        day(D1 + timedelta(days=2), 0, 24, {ann: (0, 3, 0, 1, 100.0)})
        store.record_event(ann, "", "start", epoch(D1) + 9 * H)
        store.record_event(ann, "", "stop", epoch(D1) + 17 * H)
        store.record_event(bob, "", "start", epoch(D1) + 13 * H)
        store.record_event(ann, "", "start", epoch(D1 + timedelta(days=2)) + 60)
        store.record_storage(epoch(D1) + 12 * H, [(ann, 1000)])
        store.record_storage(epoch(D1 + timedelta(days=2)) + H, [(ann, 5000)])
    finally:
        store.close()


@pytest.fixture(scope="module")
def people(hub):
    admin = hub.admin_session()
    ann, ann_session = hub.new_user("ua")
    bob, _ = hub.new_user("ub")
    write_days(hub, ann, bob)
    group = f"{ann}-team"
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [bob]}).status_code == 200
    return {"admin": admin, "ann": ann, "ann_session": ann_session, "bob": bob, "group": group}


def span(days: int) -> dict:
    return {"from": D1.isoformat(), "to": (D1 + timedelta(days=days)).isoformat()}


def test_daily_report_has_exact_hours(hub, people):
    r = hub.api(people["admin"], "GET", "usage", params={**span(2), "period": "day"})
    assert r.status_code == 200, r.text
    body = r.json()
    users = {u["username"]: u for u in body["users"]}
    ann, bob = users[people["ann"]], users[people["bob"]]
    d1, down, d3 = ann["periods"]
    assert (
        d1["start"],
        d1["lab_hours"],
        d1["active_hours"],
        d1["unknown_hours"],
        d1["starts"],
        d1["cpu_hours"],
        d1["peak_memory_bytes"],
        d1["storage_bytes"],
    ) == (D1.isoformat(), 8.0, 2.0, 14.0, 1, 4.0, 10**9 + 17, 1000)
    assert (down["lab_hours"], down["unknown_hours"], down["storage_bytes"]) == (0.0, 24.0, 1000)  # unknown, not idle
    assert (
        d3["lab_hours"],
        d3["active_hours"],
        d3["unknown_hours"],
        d3["starts"],
        d3["cpu_hours"],
        d3["storage_bytes"],
    ) == (3.0, 1.0, 0.0, 1, 3.0, 5000)
    assert ann["totals"]["lab_hours"] == 11.0 and ann["totals"]["starts"] == 2
    assert (bob["totals"]["lab_hours"], bob["totals"]["cpu_hours"], bob["totals"]["active_hours"]) == (1.5, 3.0, 0.0)
    assert body["unknown_hours"] == 38.0
    assert hub.admin in users  # hub users without records are listed with zeros
    assert users[hub.admin]["totals"]["lab_hours"] == 0.0


def test_week_and_range_periods(hub, people):
    r = hub.api(people["admin"], "GET", "usage", params={**span(2), "period": "range"})
    (only,) = next(u for u in r.json()["users"] if u["username"] == people["ann"])["periods"]
    assert (only["start"], only["end"], only["lab_hours"]) == (
        D1.isoformat(),
        (D1 + timedelta(days=2)).isoformat(),
        11.0,
    )
    r = hub.api(people["admin"], "GET", "usage", params={**span(2), "period": "week"})
    weeks = next(u for u in r.json()["users"] if u["username"] == people["ann"])["periods"]
    assert sum(w["lab_hours"] for w in weeks) == 11.0
    assert all(datetime.fromisoformat(w["start"]).weekday() == 0 for w in weeks[1:])  # weeks start on Monday


def test_csv_download(hub, people):
    r = hub.api(people["admin"], "GET", "usage", params={**span(2), "period": "day", "format": "csv"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    ann = [row for row in rows if row["username"] == people["ann"]]
    assert [
        (
            row["period_start"],
            row["lab_hours"],
            row["active_hours"],
            row["unknown_hours"],
            row["starts"],
            row["cpu_hours"],
            row["storage_bytes"],
        )
        for row in ann
    ] == [
        (D1.isoformat(), "8.0", "2.0", "14.0", "1", "4.0", "1000"),
        ((D1 + timedelta(days=1)).isoformat(), "0.0", "0.0", "24.0", "0", "0.0", "1000"),
        ((D1 + timedelta(days=2)).isoformat(), "3.0", "1.0", "0.0", "1", "3.0", "5000"),
    ]


def test_group_filter(hub, people):
    r = hub.api(people["admin"], "GET", "usage", params={**span(2), "group": people["group"]})
    assert [u["username"] for u in r.json()["users"]] == [people["bob"]]
    r = hub.api(people["admin"], "GET", "usage", params={"group": "no-such-group-x"})
    assert r.status_code == 404 and "group" in r.json()["message"]


@pytest.mark.parametrize(
    "params, field", [({"from": "2026-02-30"}, "from"), ({"period": "year"}, "period"), ({"format": "xml"}, "format")]
)
def test_bad_input_is_400_naming_the_field(hub, people, params, field):
    r = hub.api(people["admin"], "GET", "usage", params=params)
    assert r.status_code == 400 and r.json()["message"].startswith(field + ":")


def test_users_may_not_read_it(hub, people):
    assert hub.api(people["ann_session"], "GET", "usage").status_code == 403
    assert hub.api(None, "GET", "usage").status_code == 403
    assert people["ann_session"].get(hub.hub_url + "usage").status_code == 403
    own = hub.token_for(people["ann"])
    assert hub.api(None, "GET", "usage", token=own).status_code == 403


def test_custom_scope_reads_it_and_a_filtered_one_does_not(make_hub):
    """A role holding custom:usage:read (given to a group by configuration) reads the report;
    custom:usage:read!user=... is not a global permission."""
    readers, filtered = "usage-readers", "usage-self"
    roles = [
        {"name": "usage-reader", "scopes": ["custom:usage:read"], "groups": [readers]},
        {"name": "usage-filtered", "scopes": ["custom:usage:read!group=" + filtered], "groups": [filtered]},
    ]
    hub = make_hub(extra_config=f"c.JupyterHub.load_roles = {roles!r}\n")  # the platform adds its own
    admin = hub.admin_session()
    reader, reader_session = hub.new_user("ur")
    other, other_session = hub.new_user("uo")
    for group, member in ((readers, reader), (filtered, other)):
        assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [member]}).status_code == 200
    assert hub.api(reader_session, "GET", "usage").status_code == 200
    token = hub.token_for(reader, ["custom:usage:read"])
    assert hub.api(None, "GET", "usage", token=token).status_code == 200
    assert hub.api(other_session, "GET", "usage").status_code == 403
