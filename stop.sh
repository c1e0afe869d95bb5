#!/usr/bin/env bash
# Stop Stellars JupyterHub DS (the compose stack), keeping all data; same as `make down`.
# See scripts/down.sh --help.
set -euo pipefail
exec "$(dirname "$0")/scripts/down.sh" "$@"
