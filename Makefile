# yiciban — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export NATS_URL ?= nats://127.0.0.1:4222
# `make run` keeps its data in its own database on the same server
RUN_DATABASE_URL ?= $(patsubst %/postgres,%/yiciban,$(DATABASE_URL))
CARGO ?= cargo

.PHONY: run test bench bench-workbench scale-model faults infra infra-down lint fmt build oidc-provider examples browser proto-check proto-release

## run: start Postgres and NATS if none answers, then the whole system
run: infra
	@echo "==> building the services"
	$(CARGO) build --release --bins
	@echo "==> starting yiciban (Ctrl-C stops it); data in database yiciban"
	DATABASE_URL=$(RUN_DATABASE_URL) ./target/release/yiciban-dev

## test: every test, against the real Postgres and NATS (started if absent)
test: infra oidc-provider examples browser
	@echo "==> running the tests (Postgres at $(DATABASE_URL), NATS at $(NATS_URL))"
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast --failure-output final; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

## bench: the benchmark (docs/BENCHMARKS.md): the whole system under load beside raw Postgres and JetStream baselines,
## then the workbench's pages with 10,000 cases in the read models (bench-workbench)
BENCH_ARGS ?=
bench: infra
	@echo "==> building the services and the load generator (release)"
	$(CARGO) build --release --bins
	./target/release/yiciban-bench --markdown docs/BENCHMARKS.md $(BENCH_ARGS)
	./target/release/yiciban-bench --workbench --markdown docs/BENCHMARKS.md $(BENCH_WORKBENCH_ARGS)

## bench-workbench: the workbench's inbox, worklist, case page and overdue board with 10,000 cases loaded through
## the services, beside the gRPC calls and the read-model SQL behind each page (docs/BENCHMARKS.md)
BENCH_WORKBENCH_ARGS ?=
bench-workbench: infra
	@echo "==> building the load generator with the services and the workbench in it (release)"
	$(CARGO) build --release -p yiciban-bench
	./target/release/yiciban-bench --workbench --markdown docs/BENCHMARKS.md $(BENCH_WORKBENCH_ARGS)

## scale-model: the province model (docs/SCALING.md): a seeded simulation of a province's day with its morning peak
## on the suggested sizing, fed with the costs per event `make bench` measured; no infrastructure, a few seconds
SCALE_MODEL_ARGS ?=
scale-model:
	@echo "==> building the load generator, which holds the model (release)"
	$(CARGO) build --release -p yiciban-bench
	./target/release/yiciban-bench --province --markdown docs/SCALING.md $(SCALE_MODEL_ARGS)

## faults: the fault tests (docs/RELIABILITY.md): every service as its own process against a Postgres and a
## nats-server of their own (the programs installed if missing), killed, restarted and starved one at a time
## under load; fails if a case is lost, an effect duplicated or recovery times out
FAULTS_ARGS ?=
FAULTS_BINS := -p yiciban-intake -p yiciban-routing -p yiciban-tasks -p yiciban-issuance -p yiciban-tracking -p yiciban-faults
faults:
	@echo "==> the programs the fault tests start themselves (deploy/local/infra.sh tools)"
	@tools="$$(deploy/local/infra.sh tools)" && eval "$$tools" && \
	echo "==> building the services and the fault harness (debug)" && \
	$(CARGO) build $(FAULTS_BINS) --bins && \
	PG_BIN="$$PG_BIN" PG_USER="$$PG_USER" NATS_SERVER="$$NATS_SERVER" \
		./target/debug/yiciban-faults --markdown docs/RELIABILITY.md $(FAULTS_ARGS)

## infra: make sure a Postgres and a NATS JetStream answer (start local ones if not)
infra:
	@deploy/local/infra.sh up

## oidc-provider: install the test OpenID Connect provider (npm oidc-provider, tests/oidc-provider)
oidc-provider:
	@deploy/local/oidc-provider.sh install

## examples: install and build the department subscriber examples (examples/python, examples/typescript;
## pinned packages from PyPI and npm, code generated from proto/), which the journey tests run
examples:
	@deploy/local/examples.sh install

## browser: install what the browser tests drive (Debian's chromium, chromium-driver and a Chinese font;
## apt-get as root, only what is missing)
browser:
	@deploy/local/browser.sh install

## infra-down: stop what `make infra` started (never the machine's own services)
infra-down:
	@deploy/local/infra.sh down

## lint: formatting and clippy, warnings are errors; the contract checks (proto-check)
lint: proto-check
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@# the wire without the domain (ADR 0014): the proto crate and the event store build without it
	$(CARGO) clippy -p yiciban-proto -p yiciban-eventstore --lib -- -D warnings
	@if $(CARGO) tree -p yiciban-eventstore -e normal --prefix none | grep -q '^yiciban-domain '; then \
		echo "yiciban-eventstore depends on yiciban-domain (ADR 0014)"; exit 1; fi

## proto-check: buf lint of proto/, buf breaking against the released contract (proto/released/),
## and the AsyncAPI parser on docs/asyncapi.json (generated from the protos by a test)
proto-check:
	@echo "==> buf lint and buf breaking on proto/, AsyncAPI validation (tools from npm, deploy/local/node-tool.sh)"
	deploy/local/node-tool.sh buf exec lint proto
	deploy/local/node-tool.sh buf exec breaking proto --against proto/released/contract.binpb
	deploy/local/node-tool.sh asyncapi exec docs/asyncapi.json

## proto-release: make proto/ as it is now the released contract that later changes must not break
proto-release:
	deploy/local/node-tool.sh buf exec build proto --exclude-source-info -o proto/released/contract.binpb

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace --all-targets

.PHONY: images deploy-check

## images: one container image per service (docker or podman; without one, checks the binaries the Dockerfile copies)
images:
	@CARGO=$(CARGO) bash deploy/images.sh

## deploy-check: render every deploy/ overlay, validate it against the Kubernetes schemas, lint it with checkov (offline)
deploy-check:
	@bash deploy/validate.sh
