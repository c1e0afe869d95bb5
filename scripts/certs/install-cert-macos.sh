#!/usr/bin/env bash
# Trust a certificate (the platform's self-signed one) on macOS: adds it to the System keychain
# as a trusted root. Needs an administrator (sudo).
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") CERT.crt [--remove]

Adds CERT.crt to /Library/Keychains/System.keychain as trusted for TLS (or removes it with
--remove). Browsers that use the system store (Safari, Chrome) trust the hub afterwards.
USAGE
}

cert="" remove=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --remove) remove=1; shift ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) cert=$1; shift ;;
  esac
done
[[ -n "$cert" && -f "$cert" ]] || { usage >&2; exit 2; }
[[ "$(uname -s)" == Darwin ]] || { echo "this is for macOS; on Linux use install-cert-linux.sh" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "run with sudo: the System keychain needs an administrator" >&2; exit 1; }

if [[ $remove -eq 1 ]]; then
  security remove-trusted-cert -d "$cert"
  echo "removed the trust setting of $cert"
else
  security add-trusted-cert -d -r trustRoot -p ssl -k /Library/Keychains/System.keychain "$cert"
  echo "trusted $cert in the System keychain"
fi
