#!/usr/bin/env bash
# `make images`: builds one image per service, each a target of the Dockerfile
# (`FROM runtime AS <service>`), tagged $IMAGE_REPO/yiciban-<service>:$IMAGE_TAG,
# with docker (BuildKit) or podman.
#
# Without a working container engine it says so and checks what it can: that
# `cargo build --release --bins` produces every binary the Dockerfile copies
# (`COPY --from=builder /out/<binary> ...`), and that each one would run on the
# runtime image (distroless cc, Debian 12: glibc 2.36, no OpenSSL needed).
set -euo pipefail

cd "$(dirname "$0")/.."
IMAGE_REPO="${IMAGE_REPO:-yiciban}"
IMAGE_TAG="${IMAGE_TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}"
CARGO="${CARGO:-cargo}"
log() { printf 'images: %s\n' "$*"; }
die() { printf 'images: FAILED: %s\n' "$*" >&2; exit 1; }

mapfile -t targets < <(sed -nE 's/^FROM[[:space:]]+runtime[[:space:]]+AS[[:space:]]+([A-Za-z0-9_-]+).*/\1/p' Dockerfile)
mapfile -t binaries < <(sed -nE 's#^COPY[[:space:]]+--from=builder[[:space:]]+/out/([^[:space:]]+)[[:space:]].*#\1#p' Dockerfile)
((${#targets[@]} > 0)) || die "no 'FROM runtime AS <service>' target in the Dockerfile"

engine=""
for candidate in docker podman; do
    if command -v "$candidate" >/dev/null && "$candidate" info >/dev/null 2>&1; then
        engine="$candidate"
        break
    fi
done

if [[ -n "$engine" ]]; then
    for target in "${targets[@]}"; do
        image="$IMAGE_REPO/yiciban-$target:$IMAGE_TAG"
        log "$engine build --target $target -t $image ."
        DOCKER_BUILDKIT=1 "$engine" build --target "$target" -t "$image" .
    done
    log "built: $(printf "$IMAGE_REPO/yiciban-%s:$IMAGE_TAG " "${targets[@]}")"
    log "push them, then set the tags in deploy/overlays/<env>/kustomization.yaml (images:)"
    exit 0
fi

log "no container engine here (docker or podman with a running daemon), so no image is built."
log "checking instead the binaries the Dockerfile copies: ${binaries[*]}"
log "$CARGO build --release --bins (what the Dockerfile's builder stage runs, with --locked)"
"$CARGO" build --release --bins

# What distroless cc-debian12 provides to link against.
allowed_libs=" libc.so.6 libm.so.6 libgcc_s.so.1 libdl.so.2 libpthread.so.0 librt.so.1 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 libstdc++.so.6 libssl.so.3 libcrypto.so.3 libz.so.1 "
runtime_glibc=2.36
missing=0
for binary in "${binaries[@]}"; do
    path="target/release/$binary"
    if [[ ! -x "$path" ]]; then
        log "  $binary: NOT produced by cargo build --release --bins (is its crate in the workspace, with a [[bin]] or src/main.rs?)"
        missing=1
        continue
    fi
    detail="$(du -h "$path" | cut -f1)"
    if command -v readelf >/dev/null; then
        for lib in $(readelf -d "$path" | sed -nE 's/.*Shared library: \[(.*)\].*/\1/p'); do
            [[ "$allowed_libs" == *" $lib "* ]] || { log "  $binary: needs $lib, which the runtime image lacks"; missing=1; }
        done
        glibc="$(readelf -V "$path" | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sed 's/GLIBC_//' | sort -V | tail -n 1)"
        if [[ -n "$glibc" && "$(printf '%s\n%s\n' "$glibc" "$runtime_glibc" | sort -V | tail -n 1)" != "$runtime_glibc" ]]; then
            log "  $binary: needs glibc $glibc, the runtime image has $runtime_glibc (build on bookworm, as the Dockerfile does)"
            missing=1
        fi
        detail+=", links $(readelf -d "$path" | sed -nE 's/.*Shared library: \[(.*)\].*/\1/p' | tr '\n' ' ')(glibc >= ${glibc:-?})"
    fi
    log "  $binary: ok ($detail)"
done
((missing == 0)) || die "the Dockerfile copies binaries that the build does not produce or that would not run"
log "every binary the Dockerfile copies is built; the images themselves need docker or podman"
