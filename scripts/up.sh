#!/usr/bin/env bash
# Start the compose stack (compose.yml + compose_override.yml when present): Traefik with TLS in
# front of the hub. Images: the hub is built from this clone; Traefik and the lab image are
# pulled, and built locally (stellars-proxy:dev, the DS lab stellars-lab-ds:dev) when they
# cannot be pulled.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  cat <<USAGE
usage: $0   start the stack and wait until the hub is healthy

Environment (besides every JUPYTERHUB_* setting, see README):
  COMPOSE_PROJECT_NAME   compose project (default: stellars)
  COMPOSE_PROFILES       e.g. autoupdate (nightly image updates with Watchtower)
  STELLARS_HTTP_PORT / STELLARS_HTTPS_PORT   published ports (default 80 / 443)
  STELLARS_PROXY_IMAGE   Traefik image (default traefik:v3.7.15, else the local build)
  STELLARS_HUB_IMAGE     hub image to pull instead of building stellars-hub:dev here
  STELLARS_COMPOSE_FILE  one compose file to use instead of compose.yml + compose_override.yml
  STELLARS_UP_TIMEOUT    seconds to wait for a healthy hub (default 300)
USAGE
}
[[ "${1:-}" == "--help" ]] && { usage; exit 0; }

"$here/scripts/ensure-engine.sh"
read -ra compose < <("$here/scripts/ensure-compose.sh")
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-stellars}

# usable IMAGE: present, or pulled now; otherwise 1 (the caller builds a local one)
have_image() {
  docker image inspect "$1" >/dev/null 2>&1 && return 0
  echo "pulling $1"
  docker pull -q "$1" >/dev/null 2>&1
}

if [[ -z "${STELLARS_HUB_IMAGE:-}" ]]; then
  "$here/scripts/build-images.sh" hub  # this clone's hub (skipped when unchanged)
  export STELLARS_HUB_IMAGE=stellars-hub:dev
elif ! have_image "$STELLARS_HUB_IMAGE"; then
  echo "STELLARS_HUB_IMAGE=$STELLARS_HUB_IMAGE is neither present nor pullable; unset it to build the hub here" >&2
  exit 1
fi

proxy=${STELLARS_PROXY_IMAGE:-traefik:v3.7.15}
if ! have_image "$proxy"; then
  echo "$proxy cannot be pulled: using the local Traefik build stellars-proxy:dev"
  "$here/scripts/build-images.sh" proxy
  proxy=stellars-proxy:dev
fi
export STELLARS_PROXY_IMAGE=$proxy

# the lab image setting's default, read from the image being deployed (no Python needed here)
lab=${JUPYTERHUB_NOTEBOOK_IMAGE:-$(docker run --rm --network none --entrypoint python3 "$STELLARS_HUB_IMAGE" \
  -m stellars_hub.cli settings --default JUPYTERHUB_NOTEBOOK_IMAGE)}
if ! have_image "$lab"; then
  echo "$lab cannot be pulled: labs use the local DS image stellars-lab-ds:dev (built from PyPI, 6 to 12 minutes the first time)"
  "$here/scripts/build-images.sh" lab-ds
  lab=stellars-lab-ds:dev
fi
export JUPYTERHUB_NOTEBOOK_IMAGE=$lab

if [[ -n "${STELLARS_COMPOSE_FILE:-}" ]]; then
  files=(-f "$STELLARS_COMPOSE_FILE")
else
  files=(-f "$here/compose.yml")
  if [[ -f "$here/compose_override.yml" ]]; then files+=(-f "$here/compose_override.yml"); fi
fi

cd "$here"
echo "starting the stack (project $COMPOSE_PROJECT_NAME)"
hub_logs() {  # the hub's last lines: its start-up names the step that failed
  local id
  id=$("${compose[@]}" "${files[@]}" ps -q jupyterhub)
  if [[ -n "$id" ]]; then docker logs --tail 40 "$id" >&2; fi
}
if ! "${compose[@]}" "${files[@]}" up -d --remove-orphans; then
  hub_logs
  echo "the stack did not start (the hub's log is above); stop it with: make down" >&2
  exit 1
fi

hub=$("${compose[@]}" "${files[@]}" ps -q jupyterhub)
deadline=$((SECONDS + ${STELLARS_UP_TIMEOUT:-300}))
while :; do
  state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$hub")
  case "$state" in
    "running healthy") break ;;
    running*) ;;
    *) docker logs --tail 40 "$hub" >&2; echo "the hub container is $state (logs above)" >&2; exit 1 ;;
  esac
  if [[ $SECONDS -ge $deadline ]]; then
    docker logs --tail 40 "$hub" >&2; echo "the hub did not become healthy in time ($state)" >&2; exit 1
  fi
  sleep 2
done
base=$(docker exec "$hub" python3 -c 'import os;from stellars_hub.settings import normalize_base_url as n;print(n(os.environ.get("JUPYTERHUB_BASE_URL","/jupyterhub")))')
# alive is not ready: say what the hub cannot reach yet (the engine, the proxy, its database)
ready=$(docker exec "$hub" curl -sS "http://127.0.0.1:8000${base}hub/readiness" 2>&1 || true)
case "$ready" in
  *'"ready": true'*) ;;
  *) echo "warning: the hub is up but not ready: $ready" >&2 ;;
esac
port=${STELLARS_HTTPS_PORT:-443}
[[ "$port" == 443 ]] && port="" || port=":$port"
name=$(docker inspect -f '{{.Name}}' "$hub")
name=${name#/}  # the container's name, which docker exec takes as well as its id
echo "Stellars JupyterHub DS is running at https://${CERTIFICATE_DOMAIN_NAME:-localhost}$port$base (hub container: $name)"
if docker exec "$name" test -f /data/initial-admin-password; then
  echo "First sign-in: log in as '${JUPYTERHUB_ADMIN:-admin}' with the password this prints:"
  echo "  docker exec $name cat /data/initial-admin-password"
  echo "then change it on Change Password and delete that file: docker exec $name rm /data/initial-admin-password"
else
  echo "First sign-in: log in as '${JUPYTERHUB_ADMIN:-admin}' with JUPYTERHUB_ADMIN_PASSWORD (or the password you changed it to)."
fi
echo "Stop with: make down"
