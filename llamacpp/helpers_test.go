package llamacpp

import (
	"testing"

	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/models"
)

// requireNative skips a test or benchmark that needs llama.cpp when it is
// not compiled in, and fails it instead when FAK_REQUIRE_LLAMACPP=1 (CI
// sets it).
func requireNative(tb testing.TB) {
	tb.Helper()
	env.RequireLlamacpp.SkipIfMissing(tb, Available())
}

// RequireNative is requireNative for the external test package
// (llamacpp_test).
var RequireNative = requireNative

// tinyModel is the synthetic tiny model of the given weight type (f32,
// f16, q8_0), generated into the model cache on first use.
func tinyModel(t *testing.T, typ string) string {
	t.Helper()
	p, err := models.Path("synthetic:tiny:" + typ)
	if err != nil {
		t.Fatalf("synthetic:tiny:%s: %v", typ, err)
	}
	return p
}

// resolveBenchModel resolves a .gguf path or synthetic:PRESET[:TYPE] spec.
func resolveBenchModel(b *testing.B, spec string) string {
	b.Helper()
	p, err := models.Path(spec)
	if err != nil {
		b.Fatalf("%s: %v", spec, err)
	}
	return p
}
