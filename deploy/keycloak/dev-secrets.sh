#!/usr/bin/env bash
# The identity secrets of a dev cluster (deploy/overlays/dev), made once:
#
#   keycloak-tls        kubernetes.io/tls Secret: the dev Keycloak's server
#                       certificate (keycloak.<ns>.svc), signed by a CA made
#                       here whose private key is thrown away at the end
#   yiciban-oidc-ca     ConfigMap, key ca.crt: that CA, which the services
#                       trust for the issuer (YICIBAN_OIDC_CA_FILE)
#   keycloak-admin      Secret, keys username/password: Keycloak's first
#                       administrator (master realm)
#   yiciban-oidc-<c>    Secret, key client-secret, one per confidential client
#                       (intake routing tasks issuance tracking webhooks notifier supervision workbench progress):
#                       read by the service and by Keycloak's realm import
#
# What exists already is left alone (the realm was imported with those client
# secrets); delete a Secret to have it made anew. Needs kubectl and openssl.
#
#   kubectl apply -f deploy/base/namespace.yaml
#   deploy/keycloak/dev-secrets.sh                 # then: kubectl apply -k deploy/overlays/dev
#   OUT=/tmp/x deploy/keycloak/dev-secrets.sh      # only write the manifests into /tmp/x
set -euo pipefail

NS="${NAMESPACE:-yiciban}"
KUBECTL="${KUBECTL:-kubectl}"
OUT="${OUT:-}"
HOST="keycloak.$NS.svc"
CLIENTS="intake routing tasks issuance tracking webhooks notifier supervision workbench progress"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[[ -z "$OUT" ]] || mkdir -p "$OUT"

log() { printf 'dev-secrets: %s\n' "$*"; }
exists() { [[ -z "$OUT" ]] && "$KUBECTL" -n "$NS" get "$1" "$2" >/dev/null 2>&1; }
# a manifest on stdin: applied, or written to $OUT/<name>.yaml
put() {
    if [[ -n "$OUT" ]]; then
        cat >"$OUT/$1.yaml"
        log "wrote $OUT/$1.yaml"
    else
        "$KUBECTL" -n "$NS" apply -f - >/dev/null
        log "created $1"
    fi
}
create() { "$KUBECTL" -n "$NS" create --dry-run=client -o yaml "$@"; }

# --- TLS: a CA and the Keycloak server certificate -------------------------
if exists secret keycloak-tls; then
    log "keycloak-tls exists: kept (with yiciban-oidc-ca)"
else
    openssl req -x509 -newkey rsa:3072 -nodes -days 825 -sha256 \
        -subj "/O=yiciban dev cluster/CN=yiciban dev CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
    openssl req -newkey rsa:3072 -nodes -sha256 -subj "/CN=$HOST" \
        -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
    printf '%s\n' \
        "subjectAltName=DNS:$HOST,DNS:$HOST.cluster.local,DNS:keycloak" \
        "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" >"$work/ext.cnf"
    openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
        -CAcreateserial -days 397 -sha256 -extfile "$work/ext.cnf" -out "$work/tls.crt" 2>/dev/null
    openssl verify -CAfile "$work/ca.crt" "$work/tls.crt" >/dev/null
    create secret tls keycloak-tls --cert="$work/tls.crt" --key="$work/tls.key" | put keycloak-tls
    create configmap yiciban-oidc-ca --from-file=ca.crt="$work/ca.crt" | put yiciban-oidc-ca
fi

# --- Keycloak's first administrator ----------------------------------------
if exists secret keycloak-admin; then
    log "keycloak-admin exists: kept"
else
    create secret generic keycloak-admin --from-literal=username=admin \
        --from-literal=password="$(openssl rand -base64 24)" | put keycloak-admin
fi

# --- one secret per confidential client ------------------------------------
for client in $CLIENTS; do
    if exists secret "yiciban-oidc-$client"; then
        log "yiciban-oidc-$client exists: kept"
    else
        create secret generic "yiciban-oidc-$client" \
            --from-literal=client-secret="$(openssl rand -hex 32)" | put "yiciban-oidc-$client"
    fi
done
