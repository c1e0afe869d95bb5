"""Run every benchmark module (bench/*_bench.py, each with run() -> rows) and print one table.

A row is (name, ratio, note): figures are measured side by side in the same run and reported
as ratios, since absolute timings on a shared machine say little.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    wanted = set(argv)
    rows = []
    for path in sorted(here.glob("*_bench.py")):
        if wanted and path.stem not in wanted:
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        print(f"running {path.stem} ...", file=sys.stderr, flush=True)
        rows.extend((path.stem, *row) for row in module.run())
    width = max((len(r[1]) for r in rows), default=10)
    print(f"\n{'benchmark':<18} {'measure':<{width}} {'ratio':>8}  note")
    for bench, name, ratio, note in rows:
        print(f"{bench:<18} {name:<{width}} {ratio:>8.2f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
