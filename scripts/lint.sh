#!/usr/bin/env bash
# ruff (format and lint) on the package, the tests and the benchmarks, then mypy on each.
# The test folders are checked one at a time: each has its own conftest.py (one module name) and
# imports the shared helpers (harness, browser, kubecluster, inprocesshub) by their plain names.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--help" ]]; then
  echo "usage: $0   ruff format --check, ruff check and mypy on src/, tests/ and bench/"; exit 0
fi
V=.venv/bin
$V/ruff format --check src tests bench
$V/ruff check src tests bench
$V/mypy src/stellars_hub
export MYPYPATH=tests:tests/inprocess:tests/e2e:tests/kubernetes
$V/mypy tests/*.py bench
for dir in tests/*/; do
  compgen -G "$dir*.py" >/dev/null && $V/mypy "$dir"*.py
done
