# fakbench: `make bench` runs every backend side by side on the default
# model; `make test` runs the whole suite. Both run `make setup` first, which
# is idempotent and quick once done.
SHELL := /bin/bash
GO ?= go

# The tuned native build: llama.cpp and ggml are compiled by cgo with these
# flags (they are recorded in every report as build_flags).
export CGO_ENABLED := 1
export CGO_CFLAGS := -O3 -march=native
export CGO_CXXFLAGS := -O3 -march=native

BENCH_MODEL ?= synthetic:smol135m:q8_0
BENCH_BACKENDS ?= gokernel,llamacpp,openvino
BENCH_OUT ?= out/bench
BENCH_ARGS ?=

# Packages without cgo, tested again under the race detector.
PURE_PKGS := ./transport/... ./gokernel/... ./harness/... ./report/... ./adapters ./adapters/conformance/... ./internal/... ./parity/...

.PHONY: setup build bench test test-race vet clean

setup:
	@bash scripts/setup.sh

build: setup
	$(GO) build -o bin/fakbench ./cmd/fakbench

bench: build
	bin/fakbench run --backends $(BENCH_BACKENDS) --model $(BENCH_MODEL) --out $(BENCH_OUT) $(BENCH_ARGS)

test: build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) --no-print-directory test-race

test-race:
	CGO_ENABLED=1 $(GO) test -count=1 -race -timeout 20m $(PURE_PKGS)

clean:
	rm -rf bin out
