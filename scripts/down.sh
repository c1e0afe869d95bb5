#!/usr/bin/env bash
# Stop the compose stack started by up.sh. Volumes (hub data, certificates, user volumes) and
# the lab network are kept; labs keep running until stopped from the hub (or with --labs).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  cat <<USAGE
usage: $0 [--labs]   stop the stack (COMPOSE_PROJECT_NAME, default stellars); data is kept
  --labs   also stop and remove every lab container (jupyterlab-*); their volumes are kept
USAGE
}
labs=0
case "${1:-}" in
  --help|-h) usage; exit 0 ;;
  --labs) labs=1 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

read -ra compose < <("$here/scripts/ensure-compose.sh")
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-stellars}
if [[ -n "${STELLARS_COMPOSE_FILE:-}" ]]; then
  files=(-f "$STELLARS_COMPOSE_FILE")
else
  files=(-f "$here/compose.yml")
  if [[ -f "$here/compose_override.yml" ]]; then files+=(-f "$here/compose_override.yml"); fi
fi
# interpolation needs no real values to stop containers; keep compose quiet about unset ones
export STELLARS_HTTP_PORT=${STELLARS_HTTP_PORT:-80} STELLARS_HTTPS_PORT=${STELLARS_HTTPS_PORT:-443}

cd "$here"
# stop + rm rather than down: the network stays, as labs may still be attached to it
"${compose[@]}" "${files[@]}" stop
"${compose[@]}" "${files[@]}" rm -f
if [[ $labs -eq 1 ]]; then
  ids=$(docker ps -aq --filter "name=^/jupyterlab-")
  if [[ -n "$ids" ]]; then
    # shellcheck disable=SC2086  # one id per word
    docker rm -f $ids >/dev/null
  fi
  echo "labs removed (volumes kept)"
fi
echo "stack stopped; data kept (volumes ${STELLARS_DATA_VOLUME:-jupyterhub_data}, user volumes)"
