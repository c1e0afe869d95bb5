#!/usr/bin/env bash
# Run the platform on this machine: the hub image as container "jupyterhub" on the lab network,
# labs from the local lab image unless JUPYTERHUB_NOTEBOOK_IMAGE says otherwise.
set -euo pipefail
if [[ "${1:-}" == "--help" ]]; then
  echo "usage: $0   start the hub container (JUPYTERHUB_* variables are passed through)"; exit 0
fi
network=${JUPYTERHUB_NETWORK_NAME:-jupyterhub_network}
port=${STELLARS_PORT:-8000}
docker network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null
docker rm -f jupyterhub >/dev/null 2>&1 || true
envs=(-e "JUPYTERHUB_NOTEBOOK_IMAGE=${JUPYTERHUB_NOTEBOOK_IMAGE:-stellars-lab:dev}" -e "JUPYTERHUB_NETWORK_NAME=$network")
while IFS='=' read -r name _; do
  [[ "$name" == JUPYTERHUB_* && "$name" != JUPYTERHUB_NOTEBOOK_IMAGE && "$name" != JUPYTERHUB_NETWORK_NAME ]] && envs+=(-e "$name")
done < <(env)
docker run -d --name jupyterhub --network "$network" -p "127.0.0.1:$port:8000" \
  -v /var/run/docker.sock:/var/run/docker.sock -v jupyterhub_data:/data \
  "${envs[@]}" stellars-hub:dev >/dev/null
base=$(docker exec jupyterhub python3 -c 'import os;from stellars_hub.settings import normalize_base_url as n;print(n(os.environ.get("JUPYTERHUB_BASE_URL","/jupyterhub")))')
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port${base}hub/api/" >/dev/null 2>&1 && break
  if [[ "$(docker inspect -f '{{.State.Running}}' jupyterhub)" != true ]]; then docker logs --tail 30 jupyterhub; exit 1; fi
  sleep 1
done
echo "Stellars JupyterHub DS is running at http://127.0.0.1:$port${base}"
echo "First sign-in: sign up as '${JUPYTERHUB_ADMIN:-admin}' (authorised at once), then log in. Stop with: make down"
