#!/usr/bin/env bash
# Start Stellars JupyterHub DS (the compose stack); same as `make up`. See scripts/up.sh --help.
set -euo pipefail
exec "$(dirname "$0")/scripts/up.sh" "$@"
