#!/usr/bin/env bash
# Move a user's volumes (home, workspace, cache) to the names of a new user name, escaping
# names exactly as the spawner does (naming.escape_name: lower-case letters and digits kept,
# every other byte becomes -XX hex, lower-cased). Never overwrites an existing volume.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") [--dry-run] [--keep-orig] [--image IMAGE] [--hub-data VOLUME|DIR] [--no-hub] OLD_USER NEW_USER

Copies jupyterlab-<old>_{home,workspace,cache} into jupyterlab-<new>_{...} and then removes
the old volumes (kept with --keep-orig). Volumes the old user does not have are skipped.
Refuses when a target volume exists or the user's lab container exists (stop it first).
First asks the hub's database whether it knows either user or maps their volumes (a renamed
user keeps their volumes, a deleted user's kept volumes stay theirs): then it refuses, because
moving the volumes would leave that user empty and could hand the files to someone else; rename
the user in the hub instead (the volumes follow the user, nothing is copied).
--hub-data  the hub's data volume or directory (default: \$STELLARS_DATA_VOLUME or jupyterhub_data);
            with JUPYTERHUB_DB_URL set (PostgreSQL) that database is asked instead
--no-hub    skip that check: only for volumes no hub on this engine has ever used
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

dry=0 keep=0 nohub=0 image=${STELLARS_TOOLS_IMAGE:-stellars-hub:dev} args=()
hubdata=${STELLARS_DATA_VOLUME:-jupyterhub_data}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --dry-run) dry=1; shift ;;
    --keep-orig) keep=1; shift ;;
    --no-hub) nohub=1; shift ;;
    --hub-data) hubdata=${2:?--hub-data needs a value}; shift 2 ;;
    --image) image=${2:?--image needs a value}; shift 2 ;;
    --escape) escape_name "${2?--escape needs a value}"; exit 0 ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ ${#args[@]} -eq 2 && -n "${args[0]}" && -n "${args[1]}" ]] || { usage >&2; exit 2; }
old=$(escape_name "${args[0]}") new=$(escape_name "${args[1]}")
[[ "$old" != "$new" ]] || { echo "'${args[0]}' and '${args[1]}' map to the same volumes" >&2; exit 2; }

# The hub's own view: users of either name, and volume-map rows (accounts/volumemap.py) that
# name either user or either set of volumes. Read-only; exit 3 when anything is found.
HUB_CHECK='
import os, sys
from sqlalchemy import create_engine, inspect, text
old, new, old_base, new_base = sys.argv[1:5]
url = os.environ.get("JUPYTERHUB_DB_URL") or "sqlite:////data/jupyterhub.sqlite"
if url.startswith("sqlite:///") and not os.path.exists(url[len("sqlite:///"):]):
    sys.exit(4)
engine = create_engine(url)
found = []
with engine.connect() as c:
    names = {"a": old, "b": new}
    for (name,) in c.execute(text("SELECT name FROM users WHERE name IN (:a, :b)"), names):
        found.append(f"{name} is a user of the hub")
    if inspect(engine).has_table("stellars_volume_sets"):
        rows = c.execute(text("SELECT user_name, base, deleted_name FROM stellars_volume_sets "
                              "WHERE base IN (:ob, :nb) OR user_name IN (:a, :b)"),
                         {**names, "ob": old_base, "nb": new_base})
        for user, base, deleted in rows:
            owner = user or f"the deleted user {deleted} (kept volumes)"
            found.append(f"volumes jupyterlab-{base}_* belong to {owner}")
for line in found:
    print(line)
sys.exit(3 if found else 0)
'
hub_check() {
  local mount
  if [[ "$hubdata" == /* ]]; then mount="$hubdata:/data:ro"
  elif docker volume inspect "$hubdata" >/dev/null 2>&1; then mount="$hubdata:/data:ro"
  elif [[ -z "${JUPYTERHUB_DB_URL:-}" ]]; then
    echo "cannot find the hub's data volume '$hubdata': pass --hub-data VOLUME (or DIR), or --no-hub when no hub uses these volumes" >&2
    exit 1
  fi
  local rc=0 out opts=()
  [[ -z "${mount:-}" ]] || opts+=(-v "$mount")
  [[ -n "${JUPYTERHUB_DB_URL:-}" ]] || opts+=(--network none)  # SQLite: no network needed
  out=$(docker run --rm "${opts[@]}" -e JUPYTERHUB_DB_URL="${JUPYTERHUB_DB_URL:-}" \
    --entrypoint python3 "$image" -c "$HUB_CHECK" "${args[0]}" "${args[1]}" "$old" "$new" 2>&1) || rc=$?
  case $rc in
    0) ;;
    3) echo "$out" >&2
       cat >&2 <<REFUSE
refused: the hub knows these users or volumes, nothing was changed. Rename the user in the hub
instead; their volumes follow them without a copy:
  Admin page -> Edit User, or
  curl -X PATCH -H "Authorization: token \$ADMIN_TOKEN" -d '{"name": "${args[1]}"}' \\
       https://HOST/jupyterhub/hub/api/users/${args[0]}
REFUSE
       exit 1 ;;
    4) echo "no hub database in '$hubdata': pass --hub-data VOLUME (or DIR), or --no-hub when no hub uses these volumes" >&2
       exit 1 ;;
    *) echo "could not read the hub's database: $out" >&2; exit 1 ;;
  esac
}
[[ $nohub -eq 1 ]] || hub_check

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
