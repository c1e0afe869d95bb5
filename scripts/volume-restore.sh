#!/usr/bin/env bash
# Restore a Docker volume from an archive made by volume-backup.sh. Refuses to write into a
# volume that holds files unless --force is given (which empties it first, so the result is
# exactly the archive's content).
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") [--force] [--dry-run] [--image IMAGE] ARCHIVE.tar.gz VOLUME

Creates VOLUME when missing and unpacks ARCHIVE into it (owners and permissions kept).
The whole archive is read and checked first: a damaged or truncated one changes nothing.
--force    replace the content of a non-empty VOLUME (its files are deleted first)
--dry-run  say what would happen, change nothing
Stop every container using VOLUME first. IMAGE runs tar (default: \$STELLARS_TOOLS_IMAGE or
stellars-hub:dev).
USAGE
}

force=0 dry=0 image=${STELLARS_TOOLS_IMAGE:-stellars-hub:dev} args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --force) force=1; shift ;;
    --dry-run) dry=1; shift ;;
    --image) image=${2:?--image needs a value}; shift 2 ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ ${#args[@]} -eq 2 ]] || { usage >&2; exit 2; }
archive=${args[0]} volume=${args[1]}
[[ -f "$archive" ]] || { echo "no such archive: $archive" >&2; exit 1; }
dir=$(cd "$(dirname "$archive")" && pwd) file=$(basename "$archive")

# read the archive end to end (gzip checksum, tar structure) before anything is touched
if ! check=$(docker run --rm --network none --entrypoint sh -v "$dir:/backup:ro" "$image" \
    -c 'tar -tzf "/backup/$1" >/dev/null' verify "$file" 2>&1); then
  echo "archive $archive is damaged or not a .tar.gz ($check); volume $volume was not touched" >&2; exit 1
fi

in_use=$(docker ps -q --filter "volume=$volume")
[[ -z "$in_use" ]] || { echo "volume $volume is used by running containers ($in_use); stop them first" >&2; exit 1; }

if docker volume inspect "$volume" >/dev/null 2>&1; then
  entries=$(docker run --rm --network none --entrypoint find -v "$volume:/volume:ro" "$image" \
    /volume -mindepth 1 -maxdepth 1 | wc -l)
  if [[ "$entries" -gt 0 && $force -eq 0 ]]; then
    echo "volume $volume is not empty ($entries entries); pass --force to replace its content" >&2; exit 1
  fi
else
  entries=0
  [[ $dry -eq 1 ]] || docker volume create "$volume" >/dev/null
fi

if [[ $dry -eq 1 ]]; then
  echo "dry run: would unpack $archive into $volume (replacing $entries entries)"; exit 0
fi
docker run --rm --network none --entrypoint sh -v "$volume:/volume" -v "$dir:/backup:ro" "$image" \
  -c 'set -e; find /volume -mindepth 1 -delete; tar --numeric-owner -xzpf "/backup/$1" -C /volume' \
  restore "$file"
echo "restored $archive into $volume"
