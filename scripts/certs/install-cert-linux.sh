#!/usr/bin/env bash
# Trust a certificate (the platform's self-signed one) system-wide on Linux: Debian/Ubuntu,
# RHEL/Fedora/Rocky/Alma, Arch and Alpine, each with its own trust-store tool. Needs root.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") CERT.crt [--name NAME] [--remove]

Adds CERT.crt to the system's trusted CAs (or removes it with --remove) under NAME
(default: stellars-jupyterhub). The distribution is read from /etc/os-release.
USAGE
}

cert="" name="stellars-jupyterhub" remove=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --name) name=${2:?--name needs a value}; shift 2 ;;
    --remove) remove=1; shift ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) cert=$1; shift ;;
  esac
done
[[ $remove -eq 1 || -n "$cert" ]] || { usage >&2; exit 2; }
[[ $remove -eq 1 || -f "$cert" ]] || { echo "no such file: $cert" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "run as root (sudo $0 ...): the system trust store is root's" >&2; exit 1; }
[[ -r /etc/os-release ]] || { echo "/etc/os-release missing: unknown distribution" >&2; exit 1; }

# shellcheck source=/dev/null
family=$(. /etc/os-release; echo " ${ID:-} ${ID_LIKE:-} ")
case "$family" in
  *" debian "*|*" ubuntu "*|*" alpine "*)
    dir=/usr/local/share/ca-certificates; refresh=(update-ca-certificates) ;;
  *" rhel "*|*" fedora "*|*" centos "*|*" rocky "*|*" almalinux "*)
    dir=/etc/pki/ca-trust/source/anchors; refresh=(update-ca-trust extract) ;;
  *" arch "*)
    dir=/etc/ca-certificates/trust-source/anchors; refresh=(trust extract-compat) ;;
  *) echo "unsupported distribution ($family): copy $cert into its CA anchors folder by hand" >&2; exit 1 ;;
esac
command -v "${refresh[0]}" >/dev/null || { echo "${refresh[0]} not found: install the ca-certificates package" >&2; exit 1; }

target="$dir/$name.crt"
if [[ $remove -eq 1 ]]; then
  rm -f "$target"
  [[ "${refresh[0]}" == update-ca-certificates ]] && refresh+=(--fresh)
  "${refresh[@]}" >/dev/null
  echo "removed $target and refreshed the trust store"
else
  mkdir -p "$dir"
  install -m 0644 "$cert" "$target"
  "${refresh[@]}" >/dev/null
  echo "trusted $cert as $target"
fi
