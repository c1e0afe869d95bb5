#!/usr/bin/env bash
# Everything the tests need besides the engine and images: a venv with the package and its
# test extras (pinned), configurable-http-proxy, Chromium, a PostgreSQL server, shellcheck and
# Docker Compose. Idempotent and quick when already done.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ "${1:-}" == "--help" ]]; then
  echo "usage: $0   create .venv, install the package, CHP, Chromium, shellcheck and compose"; exit 0
fi
cd "$here"
PY=${PYTHON:-python3}
stamp=.venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)
if [[ ! -f "$stamp" ]]; then
  [[ -x .venv/bin/python ]] || "$PY" -m venv .venv
  .venv/bin/pip install -q -c constraints.txt -e '.[test]'
  rm -f .venv/.installed-*; touch "$stamp"
fi
if ! command -v configurable-http-proxy >/dev/null; then
  command -v npm >/dev/null || { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null; }
  npm install -g --silent configurable-http-proxy@4
fi
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && [[ $(id -u) -eq 0 ]]; then
  apt-get update -q >/dev/null  # the PostgreSQL test runs a throwaway server
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
fi
# a Debian package the tests need: installed as root, otherwise say what to run
need_package() {  # command package
  command -v "$1" >/dev/null && return 0
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
  else
    echo "$1 is missing: install Debian's $2 package (sudo apt-get install $2)" >&2; exit 1
  fi
}
need_package chromium chromium
need_package shellcheck shellcheck
need_package npm npm
scripts/build-static.sh  # chart.js from npm into the package's static files
scripts/ensure-compose.sh >/dev/null
