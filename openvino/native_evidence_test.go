package openvino

import (
	"testing"

	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/gguf"
)

// The session's native cache state is what the session reports, step by
// step and on a short harness run: for the stateful form the length of the
// runtime's variable state, for the explicit form the rows the runtime's
// KV outputs filled.
func TestNativeCacheEqualsBookkeeping(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeQ8_0, nil)
	conformance.NativeEvidence(t, b, "openvino: the length along the token axis of the infer request's KV variable state")
	b, _ = openTiny(t, gguf.TypeQ8_0, map[string]string{ExtraKVCache: kvExplicit})
	conformance.NativeEvidence(t, b, "openvino: the rows of the session's KV buffers")
}
