#!/usr/bin/env bash
# Back up Docker volumes to <volume>_<date>.tar.gz. The volume is mounted read-only into a
# throw-away container, so a backup can never change it; owners and permissions are kept.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") [--out DIR] [--image IMAGE] VOLUME...

Writes DIR/VOLUME_YYYYmmdd-HHMMSS.tar.gz for each VOLUME (default DIR: current folder).
Stop the labs or the hub first for a consistent copy of files that change while it runs.
IMAGE runs tar (default: \$STELLARS_TOOLS_IMAGE or stellars-hub:dev; any image with GNU tar).
Restore with volume-restore.sh.
USAGE
}

out=. image=${STELLARS_TOOLS_IMAGE:-stellars-hub:dev} volumes=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --image) image=${2:?--image needs a value}; shift 2 ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) volumes+=("$1"); shift ;;
  esac
done
[[ ${#volumes[@]} -gt 0 ]] || { usage >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

for volume in "${volumes[@]}"; do
  docker volume inspect "$volume" >/dev/null 2>&1 || { echo "no such volume: $volume" >&2; exit 1; }
  archive="${volume}_$(date +%Y%m%d-%H%M%S).tar.gz"
  [[ ! -e "$out/$archive" ]] || { echo "$out/$archive already exists" >&2; exit 1; }
  docker run --rm --network none --entrypoint tar \
    -v "$volume:/volume:ro" -v "$out:/backup" "$image" \
    --numeric-owner -czf "/backup/$archive.partial" -C /volume .
  mv "$out/$archive.partial" "$out/$archive"
  echo "$out/$archive"
done
