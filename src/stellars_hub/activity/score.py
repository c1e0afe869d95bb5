"""The activity score: a decay-weighted share of active samples.

    weight(sample) = 2 ** (-age_hours / half_life_hours)
    score          = sum(weight of active samples) / sum(weight of all samples)

Only samples that exist count: while the hub is down nobody is sampled, so downtime counts
against no one. The common factor 2 ** (-now / half_life) cancels out of the fraction, so a
score only changes when samples are added, pruned or removed, never merely because time passes.
That is why the store can compute all scores once per sampler pass and cache them.
"""

from __future__ import annotations

from collections.abc import Iterable


def weight(age_seconds: float, half_life_hours: float) -> float:
    return 2.0 ** (-(age_seconds / 3600.0) / half_life_hours)


def score(
    samples: Iterable[tuple[float, bool]], now: float, half_life_hours: float, retention_seconds: float | None = None
) -> tuple[float | None, int]:
    """(score in 0..1 or None without samples, number of samples used) for one user's
    ``(timestamp, active)`` samples; samples older than ``retention_seconds`` are ignored."""
    active = total = 0.0
    count = 0
    for ts, is_active in samples:
        age = max(0.0, now - ts)
        if retention_seconds is not None and age > retention_seconds:
            continue
        w = weight(age, half_life_hours)
        total += w
        if is_active:
            active += w
        count += 1
    return (active / total if total > 0 else None), count
