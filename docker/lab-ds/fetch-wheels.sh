#!/usr/bin/env bash
# Fill the wheel cache the DS image is built from: every file of requirements.lock, checked
# against the lock's hashes, downloaded once and kept (like the Kubernetes binaries under
# /var/cache/stellars-k8s), so rebuilding after an input change downloads nothing again.
# The base image's own Python and platform pick the files (no Python needed on the host).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ "${1:-}" == "--help" || $# -ne 2 ]]; then
  echo "usage: $0 CACHE_DIR BASE_IMAGE   download the wheels of requirements.lock into CACHE_DIR"; exit 0
fi
cache=$1 base=$2
mkdir -p "$cache"
ca=()
if [[ -n "${PIP_CERT:-}" && -s "${PIP_CERT}" ]]; then  # a TLS-inspecting proxy's CA bundle
  ca=(-v "$PIP_CERT:/tmp/extra-ca.crt:ro" -e PIP_CERT=/tmp/extra-ca.crt)
fi
docker run --rm --network host "${ca[@]}" -v "$cache:/wheels" -v "$here/requirements.lock:/tmp/requirements.lock:ro" \
  "$base" sh -euc '
    # a complete cache costs no network: every pin of the lock has its wheel there already (the
    # hashes were checked at download, and are checked again by the image build)
    missing=$(python3 - <<"PY"
import os, re
norm = lambda s: re.sub(r"[-_.]+", "_", s).lower()
have = {tuple(norm(p) for p in f.split("-")[:2]) for f in os.listdir("/wheels") if f.endswith(".whl")}
pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\;]+)", open("/tmp/requirements.lock").read(), re.M)
print(len([1 for n, v in pins if (norm(n), norm(v)) not in have]))
PY
)
    if [ "$missing" = 0 ]; then echo "wheel cache complete"; exit 0; fi
    echo "downloading $missing wheels into the cache"
    python3 -m venv /tmp/v >/dev/null
    /tmp/v/bin/pip download --disable-pip-version-check --quiet --no-deps --only-binary :all: \
      --require-hashes -r /tmp/requirements.lock -d /wheels'
