#!/usr/bin/env bash
# Regenerate requirements.lock from requirements.in: every package pinned (==) with the hashes
# of its files on PyPI, resolved by uv inside the lab's base image (its Python 3.11, Linux) and
# only from releases uploaded before EXCLUDE_NEWER, so the same inputs give the same lock.
# To take newer releases: move EXCLUDE_NEWER forward (or edit requirements.in) and run this.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
EXCLUDE_NEWER=${EXCLUDE_NEWER:-2026-12-01T00:00:00Z}
UV_VERSION=0.13.9
# left out on purpose (see the Dockerfile): rfc3987-syntax compiles 38 Earley grammars at every
# import of jsonschema, i.e. at every lab start, to check two formats no lab schema uses
LEFT_OUT=(rfc3987-syntax lark)
if [[ "${1:-}" == "--help" ]]; then
  echo "usage: $0   rewrite requirements.lock (releases before EXCLUDE_NEWER=$EXCLUDE_NEWER)"; exit 0
fi
if [[ -z "${BASE_IMAGE:-}" ]]; then
  "$root/scripts/make-base-image.sh" >/dev/null
  BASE_IMAGE=stellars-base:bookworm
fi
ca=()
if [[ -n "${PIP_CERT:-}" && -s "${PIP_CERT}" ]]; then  # a TLS-inspecting proxy's CA bundle
  ca=(-v "$PIP_CERT:/tmp/extra-ca.crt:ro" -e PIP_CERT=/tmp/extra-ca.crt -e SSL_CERT_FILE=/tmp/extra-ca.crt)
fi
no_emit=()
for p in "${LEFT_OUT[@]}"; do no_emit+=(--no-emit-package "$p"); done
docker run --rm --network host "${ca[@]}" -v "$here:/w" -w /w "$BASE_IMAGE" sh -euc "
  python3 -m venv /tmp/uv >/dev/null
  /tmp/uv/bin/pip install -q uv==$UV_VERSION
  /tmp/uv/bin/uv pip compile requirements.in --quiet --python-version 3.11 --generate-hashes \
    --exclude-newer $EXCLUDE_NEWER ${no_emit[*]} --custom-compile-command 'docker/lab-ds/lock.sh' \
    -o /tmp/requirements.lock
  cat /tmp/requirements.lock" >"$here/requirements.lock.new"
mv "$here/requirements.lock.new" "$here/requirements.lock"
echo "wrote $here/requirements.lock ($(grep -c '==' "$here/requirements.lock") packages)"
