#!/usr/bin/env bash
# The department subscriber examples (examples/python, examples/typescript),
# installed with their own toolchains into their own folders (ignored by git),
# every package pinned:
#
#   python      examples/python/.venv    nats-py, protobuf, grpcio-tools from
#                                        requirements.txt; the message classes
#                                        generated from proto/ into gen/ by grpc_tools.protoc
#   typescript  examples/typescript      nats, protobuf-es, typescript from package-lock.json
#                                        (deploy/local/node-tool.sh examples-ts); the
#                                        messages generated into src/gen by `buf generate`
#                                        (the pinned buf, tools/buf) with protoc-gen-es,
#                                        compiled by tsc into dist/
#
#   deploy/local/examples.sh install   do whatever is missing or older than its
#                                      inputs (requirements, lock, protos, sources); idempotent
#   deploy/local/examples.sh status    say whether both are installed and current (exit 1 if not)
#
# `make examples` runs the install, as a prerequisite of `make test`; the
# journey tests/journeys/examples.rs runs both against NATS. Progress goes to stderr.
set -euo pipefail

PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
cd "$(dirname "$0")/../.."
ROOT="$(pwd -P)"
PY="examples/python"
TS="examples/typescript"
PROTOS=(proto/yiciban/common/v1 proto/yiciban/events/v1)

log() { printf 'examples: %s\n' "$*" >&2; }
die() { printf 'examples: error: %s\n' "$*" >&2; exit 1; }
APT_HINT=" (Python >= 3.9 with its venv module)"
# shellcheck source=deploy/local/apt.sh
source deploy/local/apt.sh

# Is STAMP there and newer than every file of the given paths?
current() { # stamp path...
    local stamp="$1"
    shift
    [[ -f "$stamp" ]] && [[ -z "$(find "$@" -type f -newer "$stamp" -print -quit)" ]]
}

python_packages_current() { [[ -x "$PY/.venv/bin/python" ]] && current "$PY/.venv/.yiciban-installed" "$PY/requirements.txt"; }
python_generated_current() { current "$PY/gen/.yiciban-generated" "${PROTOS[@]}" "$PY/.venv/.yiciban-installed"; }
typescript_built_current() {
    current "$TS/dist/.yiciban-built" "${PROTOS[@]}" "$TS/src/subscriber.ts" "$TS/buf.gen.yaml" "$TS/tsconfig.json" \
        "$TS/node_modules/.yiciban-installed"
}

ensure_python() {
    if ! command -v python3 >/dev/null || ! python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 9)' 2>/dev/null; then
        log "python3 (>= 3.9) with venv not found"
        apt_install python3 python3-venv
    fi
    python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 9)' 2>/dev/null ||
        die "python3 $(python3 --version 2>&1) is not >= 3.9 with the venv module"
}

install_python() {
    if ! python_packages_current; then
        ensure_python
        log "python: a virtual environment in $PY/.venv ($(python3 --version)), pip install -r requirements.txt"
        rm -rf "$PY/.venv"
        python3 -m venv "$PY/.venv"
        "$PY/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$PY/requirements.txt" >&2 ||
            die "pip install failed in $PY/.venv (is PyPI reachable?)"
        touch "$PY/.venv/.yiciban-installed"
    fi
    if ! python_generated_current; then
        log "python: generating the message classes from proto/ into $PY/gen (grpc_tools.protoc)"
        rm -rf "$PY/gen"
        mkdir -p "$PY/gen"
        "$PY/.venv/bin/python" -m grpc_tools.protoc -I proto --python_out="$PY/gen" --pyi_out="$PY/gen" \
            $(find "${PROTOS[@]}" -name '*.proto' | sort) || die "grpc_tools.protoc failed"
        touch "$PY/gen/.yiciban-generated"
    fi
    log "python: installed ($("$PY/.venv/bin/python" -m pip freeze --disable-pip-version-check | grep -E '^(nats-py|protobuf)==' | paste -sd ' ' -))"
}

install_typescript() {
    deploy/local/node-tool.sh examples-ts install
    if ! typescript_built_current; then
        log "typescript: buf generate (protoc-gen-es) into $TS/src/gen, tsc into $TS/dist"
        rm -rf "$TS/dist"
        PATH="$ROOT/$TS/node_modules/.bin:$PATH" deploy/local/node-tool.sh buf exec generate proto \
            --template "$TS/buf.gen.yaml" --output "$TS" $(printf -- '--path %s ' "${PROTOS[@]}") ||
            die "buf generate failed"
        (cd "$TS" && node_modules/.bin/tsc) || die "tsc failed in $TS"
        touch "$TS/dist/.yiciban-built"
    fi
    log "typescript: built ($TS/dist/subscriber.js)"
}

case "${1:-}" in
    install)
        install_python
        install_typescript
        ;;
    status)
        ok=0
        if python_packages_current && python_generated_current; then
            echo "python: installed ($PY/.venv, $PY/gen)"
        else
            echo "python: not installed or older than its inputs (run deploy/local/examples.sh install, or make examples)"
            ok=1
        fi
        if deploy/local/node-tool.sh examples-ts status >/dev/null && typescript_built_current; then
            echo "typescript: installed ($TS/dist)"
        else
            echo "typescript: not installed or older than its inputs (run deploy/local/examples.sh install, or make examples)"
            ok=1
        fi
        exit "$ok"
        ;;
    *)
        printf 'usage: %s install|status\n' "$0" >&2
        exit 2
        ;;
esac
