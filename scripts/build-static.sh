#!/usr/bin/env bash
# Install the browser libraries the pages use (frontend/package.json, locked by
# package-lock.json) with npm and copy their distributed builds into the package's static files
# (src/stellars_hub/static/vendor/, not committed). Run by setup-dev.sh and the hub image build;
# quick when the copy is current. Pages never load a library from a CDN.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ "${1:-}" == "--help" ]]; then
  echo "usage: $0   npm ci in frontend/ and copy chart.js into src/stellars_hub/static/vendor/"; exit 0
fi
front="$here/frontend"
vendor="$here/src/stellars_hub/static/vendor"
stamp="$vendor/.built-$(sha256sum "$front/package-lock.json" | cut -c1-12)"
[[ -f "$stamp" && -f "$vendor/chart.umd.min.js" ]] && exit 0
command -v npm >/dev/null || { echo "npm is missing: install Debian's npm package" >&2; exit 1; }
(cd "$front" && npm ci --no-fund --no-audit --silent)
mkdir -p "$vendor"
rm -f "$vendor"/.built-*
cp "$front/node_modules/chart.js/dist/chart.umd.min.js" "$vendor/chart.umd.min.js"
cp "$front/node_modules/chart.js/LICENSE.md" "$vendor/chart.js-LICENSE.md"
touch "$stamp"
