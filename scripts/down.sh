#!/usr/bin/env bash
# Stop the platform started by up.sh. Data (volume jupyterhub_data) and user volumes are kept.
set -euo pipefail
if [[ "${1:-}" == "--help" ]]; then echo "usage: $0   stop the hub container"; exit 0; fi
docker rm -f jupyterhub >/dev/null 2>&1 || true
echo "hub stopped (labs keep running until stopped from the hub; data kept)"
