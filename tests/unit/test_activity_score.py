"""The activity score against hand-computed values (score.py and the store's SQL agree)."""

import pytest

from stellars_hub.activity.score import score, weight
from stellars_hub.activity.store import SampleStore

H = 3600.0
NOW = 1_800_000_000.0


def test_weight_halves_every_half_life():
    assert weight(0, 24) == 1.0
    assert weight(24 * H, 24) == pytest.approx(0.5)
    assert weight(48 * H, 24) == pytest.approx(0.25)
    assert weight(12 * H, 24) == pytest.approx(2**-0.5)


@pytest.mark.parametrize(
    "samples, half_life, expected",
    [
        # all active / none active
        ([(0, True), (1, True), (30, True)], 24, 1.0),
        ([(0, False), (1, False), (30, False)], 24, 0.0),
        # recent activity counts more than old: weights 1 and 1/2
        ([(0, True), (24, False)], 24, 1 / 1.5),
        ([(0, False), (24, True)], 24, 0.5 / 1.5),
        # a shorter half-life makes the old sample matter less: weights 1 and 1/4
        ([(0, True), (24, False)], 12, 1 / 1.25),
        # the README's worked example: active now and 24 h ago, idle 48 h and 72 h ago
        ([(0, True), (24, True), (48, False), (72, False)], 24, 1.5 / 1.875),
    ],
)
async def test_score_by_hand(samples, half_life, expected, tmp_path):
    timed = [(NOW - age_h * H, active) for age_h, active in samples]
    value, count = score(timed, NOW, half_life)
    assert value == pytest.approx(expected)
    assert count == len(samples)

    store = SampleStore(tmp_path / "a.sqlite")
    for ts, active in timed:
        await store.record(ts, [("ann", "", active)], prune_before=0)
    sql_value, sql_count = (await store.scores(half_life))[("ann", "")]
    assert sql_value == pytest.approx(expected)
    assert sql_count == len(samples)


def test_readme_example_is_eighty_percent():
    timed = [(NOW, True), (NOW - 24 * H, True), (NOW - 48 * H, False), (NOW - 72 * H, False)]
    assert score(timed, NOW, 24)[0] == pytest.approx(0.8)


def test_score_does_not_drift_with_time_alone():
    timed = [(NOW, True), (NOW - 24 * H, False)]
    assert score(timed, NOW, 24)[0] == pytest.approx(score(timed, NOW + 100 * H, 24)[0])


def test_retention_cut_off_ignores_old_samples():
    timed = [(NOW, False), (NOW - 8 * 24 * H, True)]  # the active one is 8 days old
    assert score(timed, NOW, 24, retention_seconds=7 * 24 * H) == (0.0, 1)
    assert score(timed, NOW, 24)[0] > 0  # without the cut-off it would count


def test_no_samples_no_score():
    assert score([], NOW, 24) == (None, 0)


async def test_store_scores_survive_weight_underflow(tmp_path):
    # one user's samples are > 1000 half-lives older than the newest pass: weights underflow to
    # zero relative to the newest sample, the store falls back to exact arithmetic for them
    store = SampleStore(tmp_path / "a.sqlite")
    await store.record(NOW - 2000 * H, [("old", "", True)], prune_before=0)
    await store.record(NOW - 2001 * H, [("old", "", False)], prune_before=0)
    await store.record(NOW, [("new", "", True)], prune_before=0)
    scores = await store.scores(1)
    assert scores[("new", "")] == (1.0, 1)
    assert scores[("old", "")][0] == pytest.approx(1 / 1.5) and scores[("old", "")][1] == 2
