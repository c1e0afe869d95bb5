#!/usr/bin/env bash
# Entry point of the hub image: provision what is missing, then run the hub (or the given
# command). Every step either succeeds or stops the container with a message naming the step;
# nothing is ignored, so a broken deployment fails at start-up and not at the first user.
set -euo pipefail

usage() {
  cat <<USAGE
usage: start.sh [COMMAND...]   (the image's entry point; default command: stellars-hub run)

Steps before COMMAND:
  settings     validate every JUPYTERHUB_* variable (stellars-hub check)
  certificate  when JUPYTERHUB_SSL_CERT / JUPYTERHUB_SSL_KEY (default /data/certs/server.*)
               are not mounted, make a self-signed one for CERTIFICATE_DOMAIN_NAME
               (default localhost) with a wildcard SAN; the reverse proxy serves it
USAGE
}
[[ "${1:-}" == "--help" ]] && { usage; exit 0; }

fail() {
  echo "stellars-hub start-up: step '$1' failed: $2" >&2
  echo "stellars-hub start-up: the hub was not started; fix the cause above and start it again" >&2
  exit 1
}

step_settings() {
  stellars-hub check >/dev/null || fail settings "invalid JUPYTERHUB_* variable (see the lines above)"
}

step_certificate() {
  local crt=${JUPYTERHUB_SSL_CERT:-/data/certs/server.crt} key=${JUPYTERHUB_SSL_KEY:-/data/certs/server.key}
  local domain=${CERTIFICATE_DOMAIN_NAME:-localhost}
  if [[ -s "$crt" && -s "$key" ]]; then
    echo "stellars-hub start-up: certificate: using $crt"
    return
  fi
  if [[ -e "$crt" || -e "$key" ]]; then
    fail certificate "only one of $crt and $key exists (or one is empty); mount both or neither"
  fi
  if [[ "$(dirname "$crt")" != "$(dirname "$key")" || "$(basename "$crt")" != server.crt || "$(basename "$key")" != server.key ]]; then
    fail certificate "$crt / $key are not mounted and can only be generated as server.crt/server.key in one folder"
  fi
  /opt/stellars/scripts/certs/make-cert.sh --domain "$domain" --out "$(dirname "$crt")" \
    || fail certificate "could not make a self-signed certificate for '$domain' in $(dirname "$crt")"
}

step_settings
step_certificate
[[ $# -gt 0 ]] || set -- stellars-hub run
exec "$@"
