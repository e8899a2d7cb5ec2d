# syntax=docker/dockerfile:1
#
# Container images of the yiciban services: one image per service (DESIGN.md,
# "Deployment and scale"), all from this one file.
#
#   docker build --target intake   -t yiciban-intake:dev   .
#   docker build --target routing  -t yiciban-routing:dev  .
#   docker build --target tasks    -t yiciban-tasks:dev    .
#   docker build --target issuance -t yiciban-issuance:dev .
#   make images        # all of them, with docker or podman (IMAGE_REPO, IMAGE_TAG)
#
# Why one target per service rather than one image with every binary: each
# image holds exactly one binary (smaller, and a CVE or a rollback concerns one
# service), while the `builder` stage is shared, so building all targets
# compiles the workspace once. A new service is one more 4-line stage at the
# end (and one more name in deploy/images.sh's check follows from it).
#
# The runtime is distroless cc (glibc, libgcc, CA certificates; no shell, no
# package manager) and runs as the numeric non-root user 65532. The binaries
# need no files at run time (catalog, calendar and migrations are compiled in),
# so the root filesystem can be mounted read-only.

ARG RUST_VERSION=1.95

# ---------------------------------------------------------------------------
# builder: the release binaries of the whole workspace.
# The cache mounts keep the crates.io registry and target/ between builds, so a
# source change recompiles only our crates (BuildKit, or podman/buildah).
FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY proto ./proto
COPY services ./services
COPY tests ./tests
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bins \
    && mkdir -p /out \
    && find target/release -maxdepth 1 -type f -executable -name 'yiciban-*' -exec cp {} /out/ \; \
    && strip --strip-debug /out/* \
    && ls -l /out
# (--strip-debug drops the line tables of the release profile, ~100 MB -> ~20 MB
# per binary; function names stay, so backtraces still name the frames.)

# ---------------------------------------------------------------------------
# runtime: what every service image starts from.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.source="https://example.invalid/yiciban" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 65532:65532
ENV YICIBAN_LOG_FORMAT=json
# gRPC on 5005x (per service), Prometheus text on 9464 (YICIBAN_METRICS_ADDR).
EXPOSE 9464

# ---------------------------------------------------------------------------
# one target per service: the binary and its port. Keep the COPY line in the
# form `COPY --from=builder /out/<binary> /usr/local/bin/<binary>`:
# deploy/images.sh reads it to check the binaries without a container engine.

FROM runtime AS intake
COPY --from=builder /out/yiciban-intake /usr/local/bin/yiciban-intake
ENV YICIBAN_GRPC_ADDR=0.0.0.0:50051
EXPOSE 50051
ENTRYPOINT ["/usr/local/bin/yiciban-intake"]

FROM runtime AS routing
COPY --from=builder /out/yiciban-routing /usr/local/bin/yiciban-routing
ENV YICIBAN_GRPC_ADDR=0.0.0.0:50052
EXPOSE 50052
ENTRYPOINT ["/usr/local/bin/yiciban-routing"]

FROM runtime AS tasks
COPY --from=builder /out/yiciban-tasks /usr/local/bin/yiciban-tasks
ENV YICIBAN_GRPC_ADDR=0.0.0.0:50053
EXPOSE 50053
ENTRYPOINT ["/usr/local/bin/yiciban-tasks"]

FROM runtime AS issuance
COPY --from=builder /out/yiciban-issuance /usr/local/bin/yiciban-issuance
ENV YICIBAN_GRPC_ADDR=0.0.0.0:50054
EXPOSE 50054
ENTRYPOINT ["/usr/local/bin/yiciban-issuance"]

FROM runtime AS tracking
COPY --from=builder /out/yiciban-tracking /usr/local/bin/yiciban-tracking
ENV YICIBAN_GRPC_ADDR=0.0.0.0:50055
EXPOSE 50055
ENTRYPOINT ["/usr/local/bin/yiciban-tracking"]

FROM runtime AS webhooks
COPY --from=builder /out/yiciban-webhooks /usr/local/bin/yiciban-webhooks
ENV YICIBAN_GRPC_ADDR=0.0.0.0:50056
EXPOSE 50056
ENTRYPOINT ["/usr/local/bin/yiciban-webhooks"]

FROM runtime AS notifier
COPY --from=builder /out/yiciban-notifier /usr/local/bin/yiciban-notifier
ENV YICIBAN_GRPC_ADDR=0.0.0.0:50058
EXPOSE 50058
ENTRYPOINT ["/usr/local/bin/yiciban-notifier"]

FROM runtime AS supervision
COPY --from=builder /out/yiciban-supervision /usr/local/bin/yiciban-supervision
ENV YICIBAN_GRPC_ADDR=0.0.0.0:50059
EXPOSE 50059
ENTRYPOINT ["/usr/local/bin/yiciban-supervision"]

FROM runtime AS workbench
COPY --from=builder /out/yiciban-workbench /usr/local/bin/yiciban-workbench
ENV YICIBAN_GRPC_ADDR=0.0.0.0:50057 YICIBAN_WORKBENCH_HTTP_ADDR=0.0.0.0:8090
EXPOSE 50057 8090
ENTRYPOINT ["/usr/local/bin/yiciban-workbench"]
