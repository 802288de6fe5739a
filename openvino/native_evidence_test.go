package openvino

import (
	"testing"

	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/gguf"
)

// The rows the runtime's KV outputs filled (the session's native cache
// state) are what the session reports, step by step and on a short
// harness run.
func TestNativeCacheEqualsBookkeeping(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeQ8_0, nil)
	conformance.NativeEvidence(t, b, "openvino: the rows of the session's KV buffers")
}
