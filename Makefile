# cluster-api-provider-maas — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE        ?= node
TSX         := $(NODE) --import tsx
UNIT_TESTS   = $(shell find src -name '*.test.ts' | sort)
INTEGRATION_TESTS = $(shell find test -path test/testenv -prune -o -name '*.test.ts' -print | sort)
TESTENV_TESTS = $(shell find test/testenv -name '*.test.ts' 2>/dev/null | sort)

.PHONY: help
help: ## Show the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## Install npm dependencies from the lockfile

.PHONY: build
build: deps ## Compile TypeScript into dist/
	npx tsc -p tsconfig.build.json

.PHONY: lint
lint: deps ## Type-check and lint
	npx tsc -p tsconfig.json
	npx eslint .

.PHONY: generate
generate: deps ## Regenerate CRD YAML (config/crd/bases) and the manager's RBAC (config/rbac/role.yaml)
	$(TSX) hack/generate-crds.ts
	$(TSX) hack/generate-rbac.ts

.PHONY: verify
verify: deps ## Fail when generated files are stale
	$(TSX) hack/generate-crds.ts --check
	$(TSX) hack/generate-rbac.ts --check

.PHONY: release-manifests
release-manifests: deps verify testenv-core ## Write the clusterctl provider repository out/infrastructure-maas/<version>/ (VERSION=vX.Y.Z to override)
	$(TSX) hack/release-manifests.ts $(if $(VERSION),--version $(VERSION))

.PHONY: testenv
testenv: ## Build the local control plane (kube-apiserver, etcd, kubectl, clusterctl, CAPI managers)
	hack/testenv/build.sh all

.PHONY: testenv-core
testenv-core: ## Build only what the tests need (kube-apiserver, etcd, kubectl) and fetch CAPI CRDs
	hack/testenv/build.sh core

.PHONY: test-unit
test-unit: deps ## Unit tests (no Kubernetes needed)
	$(TSX) --test $(UNIT_TESTS)

.PHONY: test-integration
test-integration: deps testenv ## Integration tests against a real kube-apiserver + etcd, the MAAS simulator and the real Cluster API managers
	$(TSX) --test --test-concurrency=1 $(TESTENV_TESTS)
	$(TSX) test/testenv/with-testenv.ts -- $(TSX) --test --test-concurrency=1 $(INTEGRATION_TESTS)

.PHONY: test
test: lint verify test-unit test-integration ## Everything CI runs: lint, generated-file check, unit and integration tests

.PHONY: bench
bench: deps build testenv-core ## Benchmarks, print figures (~40+ min): runtime; provider matrix BENCH_MACHINES=100,1000,5000 BENCH_DEPLOY_SECONDS=0,5 BENCH_REST_SECONDS=30; soak BENCH_SOAK_MACHINES=10000 BENCH_SOAK_MINUTES=10 BENCH_SOAK_SAMPLE_SECONDS=30 BENCH_SOAK_DEPLOY_SECONDS=5 BENCH_SOAK_SYNC_PERIOD=10m; BENCH_QUICK=1: the provider's in minutes
	$(TSX) bench/run.ts
	@# Every part runs even when one before it failed; the target still fails then.
	status=0; $(TSX) bench/provider.ts || status=$$?; $(TSX) bench/provider-soak.ts || status=$$?; $(TSX) bench/sim-scale.ts || status=$$?; exit $$status

.PHONY: sim
sim: deps ## Start the MAAS simulator with defaults
	$(NODE) bin/maas-sim.mjs

.PHONY: manager
manager: deps ## Run the provider's manager against $$KUBECONFIG and $$MAAS_ENDPOINT / $$MAAS_API_KEY
	$(NODE) bin/capmaas-manager.mjs

.PHONY: run
run: deps ## Local sandbox: control plane, MAAS simulator, Cluster API, the provider and an in-memory example cluster (only the manager when KUBECONFIG, MAAS_ENDPOINT and MAAS_API_KEY are set)
	$(TSX) hack/sandbox/main.ts $(ARGS)

.PHONY: docker-build
docker-build: ## Build the manager's container image (needs docker and the node:20.20.2-bookworm-slim base image)
	docker build -t capmaas-manager:dev .

.PHONY: clean
clean: ## Remove build output (keeps the Go build cache)
	rm -rf dist out
