#!/usr/bin/env bash
# Move a user's volumes (home, workspace, cache) to the names of a new user name, escaping
# names exactly as the spawner does (naming.escape_name: lower-case letters and digits kept,
# every other byte becomes -XX hex, lower-cased). Never overwrites an existing volume.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") [--dry-run] [--keep-orig] [--image IMAGE] OLD_USER NEW_USER

Copies jupyterlab-<old>_{home,workspace,cache} into jupyterlab-<new>_{...} and then removes
the old volumes (kept with --keep-orig). Volumes the old user does not have are skipped.
Refuses when a target volume exists or the user's lab container exists (stop it first).
Rename the user in the hub as well (admin page), so the new name finds these volumes.
--dry-run   print the plan, change nothing
--escape NAME  print the escaped form of NAME and exit
IMAGE runs the copy (default: \$STELLARS_TOOLS_IMAGE or stellars-hub:dev).
USAGE
}

# Same rule as escapism.escape(name, safe=[a-z0-9], escape_char='-') followed by lower():
# per UTF-8 byte, so multi-byte characters become one -XX per byte, as escapism does.
escape_name() {
  local hex out="" byte ch
  hex=$(printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n')
  while [[ -n "$hex" ]]; do
    byte=${hex:0:2} hex=${hex:2}
    if [[ "$byte" =~ ^(3[0-9]|6[1-9a-f]|7[0-9a])$ ]]; then
      printf -v ch '%b' "\\x$byte"
      out+=$ch
    else
      out+="-$byte"
    fi
  done
  printf '%s\n' "$out"
}

dry=0 keep=0 image=${STELLARS_TOOLS_IMAGE:-stellars-hub:dev} args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --dry-run) dry=1; shift ;;
    --keep-orig) keep=1; shift ;;
    --image) image=${2:?--image needs a value}; shift 2 ;;
    --escape) escape_name "${2?--escape needs a value}"; exit 0 ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ ${#args[@]} -eq 2 && -n "${args[0]}" && -n "${args[1]}" ]] || { usage >&2; exit 2; }
old=$(escape_name "${args[0]}") new=$(escape_name "${args[1]}")
[[ "$old" != "$new" ]] || { echo "'${args[0]}' and '${args[1]}' map to the same volumes" >&2; exit 2; }

for name in "jupyterlab-$old" "jupyterlab-$new"; do
  if docker container inspect "$name" >/dev/null 2>&1; then
    echo "container $name exists; stop that user's server first" >&2; exit 1
  fi
done

plan=()
for key in home workspace cache; do
  src="jupyterlab-${old}_$key" dst="jupyterlab-${new}_$key"
  if ! docker volume inspect "$src" >/dev/null 2>&1; then
    echo "skip $src (does not exist)"; continue
  fi
  if docker volume inspect "$dst" >/dev/null 2>&1; then
    echo "target volume $dst already exists; nothing was changed" >&2; exit 1
  fi
  plan+=("$src:$dst")
done
[[ ${#plan[@]} -gt 0 ]] || { echo "user '${args[0]}' has no volumes (jupyterlab-${old}_*)" >&2; exit 1; }

for pair in "${plan[@]}"; do
  src=${pair%%:*} dst=${pair#*:}
  if [[ $dry -eq 1 ]]; then
    echo "dry run: would copy $src -> $dst$([[ $keep -eq 1 ]] || echo " and remove $src")"; continue
  fi
  docker volume create "$dst" >/dev/null
  if ! docker run --rm --network none --entrypoint cp -v "$src:/from:ro" -v "$dst:/to" "$image" -a /from/. /to/; then
    docker volume rm "$dst" >/dev/null
    echo "copying $src failed; $dst removed again, $src unchanged" >&2; exit 1
  fi
  if [[ $keep -eq 0 ]]; then docker volume rm "$src" >/dev/null; fi
  echo "moved $src -> $dst$([[ $keep -eq 1 ]] && echo " (original kept)")"
done
