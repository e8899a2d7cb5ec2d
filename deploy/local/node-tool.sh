#!/usr/bin/env bash
# The project's tools from npm, each pinned by its own package-lock.json:
#
#   oidc-provider  tests/oidc-provider  the test OpenID Connect provider (issue 14),
#                                       run by the tests through services/testkit (OidcProvider)
#   buf            tools/buf            buf (@bufbuild/buf): lint and breaking-change check
#                                       of proto/ (`make proto-check`, run by `make lint`)
#   asyncapi       tools/asyncapi       the AsyncAPI parser (@asyncapi/parser), validating
#                                       docs/asyncapi.json (`make proto-check`)
#   examples-ts    examples/typescript  the TypeScript subscriber example's packages (nats,
#                                       protobuf-es, tsc), built by deploy/local/examples.sh
#
#   deploy/local/node-tool.sh TOOL install       make sure Node and npm are there (on Debian, as
#                                                root, install the nodejs and npm packages if not)
#                                                and run `npm ci` when node_modules is missing or
#                                                older than package-lock.json; idempotent
#   deploy/local/node-tool.sh TOOL status        say whether it is installed (exit 1 if not)
#   deploy/local/node-tool.sh TOOL exec ARGS...  install if needed, then run the tool's program
#
# Progress goes to stderr, prefixed with the tool's name.
set -euo pipefail

PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
cd "$(dirname "$0")/../.."
TOOL="${1:-}"
case "$TOOL" in
    oidc-provider) DIR="tests/oidc-provider" PACKAGE="oidc-provider" PROGRAM="" ;;
    buf) DIR="tools/buf" PACKAGE="@bufbuild/buf" PROGRAM="buf" ;;
    asyncapi) DIR="tools/asyncapi" PACKAGE="@asyncapi/parser" PROGRAM="validate.mjs" ;;
    examples-ts) DIR="examples/typescript" PACKAGE="nats" PROGRAM="" ;;
    *)
        printf 'usage: %s oidc-provider|buf|asyncapi|examples-ts install|status|exec [args]\n' "$0" >&2
        exit 2
        ;;
esac
DIR="$(pwd -P)/$DIR"
STAMP="$DIR/node_modules/.yiciban-installed"
# oidc-provider 9 runs on Node 20.19 and later (it prefers 22 LTS and says so)
NODE_MAJOR_MIN=20

log() { printf '%s: %s\n' "$TOOL" "$*" >&2; }
die() { printf '%s: error: %s\n' "$TOOL" "$*" >&2; exit 1; }

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
    ((major >= NODE_MAJOR_MIN)) || die "Node.js $(node --version) is too old: $TOOL needs >= $NODE_MAJOR_MIN (install a newer nodejs)"
}

# Installed, and not older than the lock file?
installed() {
    [[ -f "$STAMP" && -f "$DIR/node_modules/$PACKAGE/package.json" && ! "$DIR/package-lock.json" -nt "$STAMP" ]]
}

version_of_package() {
    sed -n "s/^ *\"version\": *\"\([^\"]*\)\".*/$(printf '%s' "$PACKAGE" | sed 's/[\/&]/\\&/g') \1/p" \
        "$DIR/node_modules/$PACKAGE/package.json" | head -n 1
}

install() {
    if installed; then
        log "installed ($(version_of_package)) in ${DIR#"$(pwd -P)/"}"
        return 0
    fi
    ensure_node
    log "npm ci in ${DIR#"$(pwd -P)/"} (node $(node --version), npm $(npm --version))"
    (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in $DIR (is the npm registry reachable?)"
    touch "$STAMP"
    log "installed ($(version_of_package))"
}

case "${2:-}" in
    install) install ;;
    status)
        if installed; then
            printf '%s: installed (%s)\n' "$TOOL" "$(version_of_package)"
        else
            printf '%s: not installed (run deploy/local/node-tool.sh %s install)\n' "$TOOL" "$TOOL"
            exit 1
        fi
        ;;
    exec)
        [[ -n "$PROGRAM" ]] || die "$TOOL has no program to run"
        installed || install
        shift 2
        if [[ "$PROGRAM" == *.mjs ]]; then
            exec node "$DIR/$PROGRAM" "$@" # a script of ours next to its package.json
        fi
        exec "$DIR/node_modules/.bin/$PROGRAM" "$@"
        ;;
    *)
        printf 'usage: %s %s install|status|exec [args]\n' "$0" "$TOOL" >&2
        exit 2
        ;;
esac
