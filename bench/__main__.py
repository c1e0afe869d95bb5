"""Run every benchmark module (bench/*_bench.py, each with run() -> rows) and print one table.

A row is (name, ratio, note[, goal[, breakdown]]): figures are measured side by side in the
same run and reported as ratios, since absolute timings on a shared machine say little.
``goal`` is "<= 1.3" or ">= 0.9" (None: no goal); the table says ``ok`` or ``short`` per row.
``breakdown`` maps a title to {phase: seconds or a text}, printed under the table.
"""

from __future__ import annotations

import importlib
import operator
import os
import sys
from pathlib import Path

_COMPARE = {"<=": operator.le, ">=": operator.ge, "==": operator.eq}


def verdict(ratio: float, goal: str | None) -> str:
    if not goal:
        return ""
    op, _, bound = goal.partition(" ")
    return "ok" if _COMPARE[op](round(ratio, 2), float(bound)) else "short"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    wanted = set(argv)
    rows = []
    loads = [_load()]
    for path in sorted(here.glob("*_bench.py")):
        if wanted and path.stem not in wanted:
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        print(f"running {path.stem} ... ({_load()})", file=sys.stderr, flush=True)
        for row in module.run():
            name, ratio, note, goal, breakdown = (*row, None, None)[:5]
            rows.append((path.stem, name, ratio, note, goal, breakdown))
        loads.append(_load())
    width = max((len(r[1]) for r in rows), default=10)
    print(f"\n{'benchmark':<18} {'measure':<{width}} {'ratio':>8} {'goal':>7} {'':5}  note")
    for bench, name, ratio, note, goal, _ in rows:
        print(f"{bench:<18} {name:<{width}} {ratio:>8.2f} {goal or '':>7} {verdict(ratio, goal):5}  {note}")
    for bench, name, _, _, _, breakdown in rows:
        for title, phases in (breakdown or {}).items():
            print(f"\n{bench}: {name}: {title}")
            for phase, value in phases.items():
                shown = value if isinstance(value, str) else f"{value * 1000:.0f} ms"
                print(f"    {phase:<45} {shown:>12}")
    print("\nmachine: " + " | ".join(dict.fromkeys(loads)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
