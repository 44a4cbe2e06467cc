#!/usr/bin/env bash
# Makes a self-signed TLS certificate for development: certs/dev/cert.pem and
# certs/dev/key.pem, valid for localhost, 127.0.0.1, ::1 and an optional extra
# host name or IP (e.g. your LAN IP, to test from a phone). Replaces any
# previous one. Browsers warn about it (self-signed): accept it once on
# https://HOST:3443/health before opening the app. Production: README.md here.
#
# Usage: certs/make-dev-cert.sh [NAME-OR-IP]
# CERT_DIR=DIR writes elsewhere (the tests do).

set -euo pipefail

extra=${1:-}
dir=${CERT_DIR:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/dev}
san='DNS:localhost,IP:127.0.0.1,IP:::1'
cn=localhost

if [[ -n $extra ]]; then
	if [[ $extra =~ ^[0-9.]+$ || $extra == *:* ]]; then san+=",IP:$extra"; else san+=",DNS:$extra"; fi
	cn=$extra
fi

mkdir -p -- "$dir"
dir=$(cd -- "$dir" && pwd)
conf=$(mktemp)
trap 'rm -f -- "$conf"' EXIT
# A leaf certificate (CA:FALSE): Firefox refuses a CA certificate as a server's.
cat >"$conf" <<CONF
[req]
distinguished_name = dn
x509_extensions = leaf
prompt = no
[dn]
CN = $cn
O = vcall development
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
CONF

# P-256: small, fast, accepted by every browser, node:tls and uWebSockets.js.
(umask 077 && openssl req -x509 -new -config "$conf" -days 365 -nodes \
	-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null)
chmod 0644 "$dir/cert.pem"

echo "Self-signed certificate for $san (365 days) in $dir"
echo "Add to .env:"
echo "SSL_CERT_PATH=$dir/cert.pem"
echo "SSL_KEY_PATH=$dir/key.pem"
