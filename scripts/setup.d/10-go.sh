#!/usr/bin/env bash
# Go modules, and the llama.cpp/ggml headers linked under third_party/ so
# plain `go build` finds them (the module cache holds the native sources).
set -euo pipefail
cd "$(dirname "$0")/../.."
go mod download
dir=$(go list -m -f '{{.Dir}}' github.com/ollama/ollama)
mkdir -p third_party
ln -sfn "$dir/llama/llama.cpp" third_party/llama
ln -sfn "$dir/ml/backend/ggml/ggml" third_party/ggml
