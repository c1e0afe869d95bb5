#!/usr/bin/env bash
# Build a local Debian base image (debootstrap + docker import) for machines that cannot pull
# from a registry. Reused when it already exists.
set -euo pipefail
TAG="${BASE_TAG:-stellars-base:bookworm}"
if [[ "${1:-}" == "--help" ]]; then
  echo "usage: $0   build $TAG from debootstrap unless it exists (needs root)"; exit 0
fi
if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "base image $TAG present"; exit 0
fi
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
mirror=$("$(dirname "$0")/debian-mirror.sh")
root=$(mktemp -d /tmp/stellars-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap bookworm from $mirror (about 2 minutes)"
debootstrap --variant=minbase \
  --include=python3,python3-venv,ca-certificates,curl,tini \
  bookworm "$root" "$mirror" >/tmp/stellars-debootstrap.log 2>&1 \
  || { tail -n 20 /tmp/stellars-debootstrap.log; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' - "$TAG" >/dev/null
echo "base image $TAG built"
