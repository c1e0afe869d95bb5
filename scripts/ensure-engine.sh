#!/usr/bin/env bash
# Make sure a Docker engine answers: start it (installing Debian's docker.io if needed) when we
# are root, otherwise say exactly what to do.
set -euo pipefail
if [[ "${1:-}" == "--help" ]]; then
  echo "usage: $0   ensure a running Docker engine (installs/starts docker.io as root)"; exit 0
fi
if docker info >/dev/null 2>&1; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  cat >&2 <<'MSG'
The Docker engine is not reachable and this is not root, so it cannot be started here.
Either start it (sudo systemctl start docker, or sudo dockerd &) and add yourself to the
docker group (sudo usermod -aG docker "$USER", then log in again), or run this as root.
MSG
  exit 1
fi
if ! command -v dockerd >/dev/null; then
  echo "installing Debian's docker.io"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: /var/log/stellars-dockerd.log)"
  if command -v systemctl >/dev/null && systemctl start docker 2>/dev/null; then :; else
    nohup dockerd >/var/log/stellars-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
docker info >/dev/null 2>&1 || { echo "dockerd did not come up; see /var/log/stellars-dockerd.log" >&2; exit 1; }
echo "Docker engine running"
