#!/usr/bin/env bash
# Certificates for NATS over TLS on one machine (tests, development; in the
# cluster cert-manager issues them, deploy/overlays/prod/nats-tls.yaml):
#
#   deploy/local/nats-tls.sh DIR [NAME ...]
#
# makes in DIR, with openssl, a CA of its own and two certificates it signs:
#   ca.crt ca.key          the CA (give ca.crt to clients as NATS_CA_FILE)
#   server.crt server.key  nats-server's, for the client, route and leaf ports,
#                          valid for each NAME (DNS names or IP addresses;
#                          default localhost 127.0.0.1 ::1), server and client
#                          use (routes and leaf connections present it too)
#   client.crt client.key  a client's (NATS_TLS_CERT_FILE / NATS_TLS_KEY_FILE),
#                          for a server that verifies client certificates
# Keys are EC P-256, mode 0600; certificates last 30 days. An existing DIR/ca.crt
# is kept (and signs the new certificates), so clients keep trusting it.
set -euo pipefail

dir="${1:?usage: nats-tls.sh DIR [NAME ...]}"
shift
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(localhost 127.0.0.1 ::1)
command -v openssl >/dev/null || { echo "nats-tls.sh: openssl not found (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
umask 077

san=""
for n in "${names[@]}"; do
    if [[ "$n" =~ ^[0-9.]+$ || "$n" == *:* ]]; then san+="IP:$n,"; else san+="DNS:$n,"; fi
done
san="${san%,}"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [[ ! -s ca.crt || ! -s ca.key ]]; then
    key ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=yiciban NATS local CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out ca.crt 2>/dev/null
fi

# sign NAME CN EXTENDED-USAGE [SAN]
sign() {
    local name="$1" cn="$2" usage="$3" alt="${4:-}"
    key "$name.key"
    openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$usage"
        [[ -n "$alt" ]] && echo "subjectAltName=$alt"
    } >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 30 \
        -extfile "$name.ext" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

sign server "${names[0]}" serverAuth,clientAuth "$san"
sign client "yiciban NATS client" clientAuth
chmod 0644 ca.crt server.crt client.crt
echo "nats-tls.sh: CA, server (${names[*]}) and client certificates in $(pwd)" >&2
