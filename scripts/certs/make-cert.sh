#!/usr/bin/env bash
# Make a self-signed TLS certificate for DOMAIN with a wildcard SAN (DOMAIN and *.DOMAIN), as
# server.crt + server.key in a directory. The hub image runs this at start-up when no
# certificate is mounted; operators run it to make one to distribute and trust.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") --domain DOMAIN [--out DIR] [--days N] [--force]

Writes DIR/server.crt and DIR/server.key (default DIR: ./certs), valid N days (default 3650),
for DOMAIN and *.DOMAIN (plus 127.0.0.1 and ::1 when DOMAIN is localhost).
Refuses to replace existing files unless --force is given.
Trust the certificate on clients with install-cert-linux.sh, install-cert-macos.sh or
install-cert-windows.ps1 (same folder).
USAGE
}

domain="" out="./certs" days=3650 force=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --domain) domain=${2:?--domain needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --days) days=${2:?--days needs a value}; shift 2 ;;
    --force) force=1; shift ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

[[ -n "$domain" ]] || { echo "--domain is required" >&2; usage >&2; exit 2; }
# a DNS name: labels of letters, digits and inner hyphens, separated by dots
label='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
if ! [[ "$domain" =~ ^${label}(\.${label})*$ ]]; then
  echo "'$domain' is not a valid domain name (letters, digits, hyphens and dots)" >&2; exit 2
fi
[[ "$days" =~ ^[0-9]+$ && "$days" -ge 1 ]] || { echo "--days must be a whole number >= 1" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is not installed" >&2; exit 1; }

crt="$out/server.crt" key="$out/server.key"
if [[ $force -eq 0 && ( -e "$crt" || -e "$key" ) ]]; then
  echo "$crt or $key already exists; pass --force to replace them" >&2; exit 1
fi
mkdir -p "$out"

san="DNS:$domain,DNS:*.$domain"
[[ "$domain" == localhost ]] && san="$san,IP:127.0.0.1,IP:::1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days "$days" \
  -subj "/CN=$domain" -addext "subjectAltName=$san" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$tmp/server.key" -out "$tmp/server.crt" 2>"$tmp/openssl.log" \
  || { cat "$tmp/openssl.log" >&2; exit 1; }
chmod 600 "$tmp/server.key"
chmod 644 "$tmp/server.crt"
# move both into place only when both were made, so a failure never leaves half a pair
mv -f "$tmp/server.key" "$key"
mv -f "$tmp/server.crt" "$crt"
echo "certificate for $domain (SAN $san) written to $crt and $key"
