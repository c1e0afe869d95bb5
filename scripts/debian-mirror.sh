#!/usr/bin/env bash
# Print the Debian mirror this machine's apt already uses, so local image builds reach the
# same package source (nothing is hard-coded: operators' hosts differ).
set -euo pipefail
if [[ "${1:-}" == "--help" ]]; then
  echo "usage: $0   print the first Debian mirror URI from apt's sources"; exit 0
fi
uri=""
if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
  uri=$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
fi
if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
  uri=$(grep -E '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n1 || true)
fi
[[ -n "$uri" ]] || { echo "no Debian mirror found in apt sources" >&2; exit 1; }
echo "$uri"
