#!/usr/bin/env bash
# The test OpenID Connect provider (issue 14): the npm package oidc-provider,
# pinned in tests/oidc-provider/package-lock.json, run by the tests through
# services/testkit (OidcProvider).
#
#   deploy/local/oidc-provider.sh install   make sure Node and npm are there (on Debian, as
#                                           root, install the nodejs and npm packages if not)
#                                           and run `npm ci` when node_modules is missing or
#                                           older than package-lock.json; idempotent
#   deploy/local/oidc-provider.sh status    say whether it is installed (exit 1 if not)
#
# Progress goes to stderr, prefixed "oidc-provider:".
set -euo pipefail

PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
cd "$(dirname "$0")/../.."
DIR="$(pwd -P)/tests/oidc-provider"
STAMP="$DIR/node_modules/.yiciban-installed"
# oidc-provider 9 runs on Node 20.19 and later (it prefers 22 LTS and says so)
NODE_MAJOR_MIN=20

log() { printf 'oidc-provider: %s\n' "$*" >&2; }
die() { printf 'oidc-provider: error: %s\n' "$*" >&2; exit 1; }

APT_HINT=" (Node.js >= $NODE_MAJOR_MIN with npm)"
# shellcheck source=deploy/local/apt.sh
source deploy/local/apt.sh # the working directory is the repository (cd above)

ensure_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        log "node or npm not found"
        apt_install nodejs npm
    fi
    command -v node >/dev/null || die "node is still not on the PATH"
    command -v npm >/dev/null || die "npm is still not on the PATH"
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    ((major >= NODE_MAJOR_MIN)) || die "Node.js $(node --version) is too old: oidc-provider needs >= $NODE_MAJOR_MIN (install a newer nodejs)"
}

# Installed, and not older than the lock file?
installed() {
    [[ -f "$STAMP" && -f "$DIR/node_modules/oidc-provider/package.json" && ! "$DIR/package-lock.json" -nt "$STAMP" ]]
}

install() {
    if installed; then
        log "installed ($(node_version_of_package)) in tests/oidc-provider"
        return 0
    fi
    ensure_node
    log "npm ci in tests/oidc-provider (node $(node --version), npm $(npm --version))"
    (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in $DIR (is the npm registry reachable?)"
    touch "$STAMP"
    log "installed ($(node_version_of_package))"
}

node_version_of_package() {
    sed -n 's/^ *"version": *"\([^"]*\)".*/oidc-provider \1/p' "$DIR/node_modules/oidc-provider/package.json" | head -n 1
}

case "${1:-}" in
    install) install ;;
    status)
        if installed; then
            printf 'oidc-provider: installed (%s)\n' "$(node_version_of_package)"
        else
            printf 'oidc-provider: not installed (run deploy/local/oidc-provider.sh install)\n'
            exit 1
        fi
        ;;
    *)
        printf 'usage: %s install|status\n' "$0" >&2
        exit 2
        ;;
esac
