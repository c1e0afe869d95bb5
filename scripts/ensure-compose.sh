#!/usr/bin/env bash
# Print the Docker Compose command this machine has ("docker compose" or "docker-compose"),
# installing Debian's docker-compose when neither exists and we are root.
# Use: read -ra compose < <(scripts/ensure-compose.sh)
set -euo pipefail
if [[ "${1:-}" == "--help" ]]; then
  echo "usage: $0   print the compose command (installs Debian's docker-compose as root if missing)"; exit 0
fi
if docker compose version >/dev/null 2>&1; then echo "docker compose"; exit 0; fi
if docker-compose version >/dev/null 2>&1; then echo "docker-compose"; exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "Docker Compose is missing: install it (sudo apt-get install docker-compose, or Docker's compose plugin)" >&2
  exit 1
fi
echo "installing Debian's docker-compose" >&2
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null
docker-compose version >/dev/null
echo "docker-compose"
