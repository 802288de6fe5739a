package llamacpp

import (
	"testing"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance"
)

// llama.cpp's memory (llama_memory_seq_pos_min/max) holds what the session
// reports, step by step and on a short harness run.
func TestNativeCacheEqualsBookkeeping(t *testing.T) {
	b := open(t, tinyModel(t, "q8_0"), adapters.Options{})
	conformance.NativeEvidence(t, b, "llamacpp: llama.cpp's memory")
}
