package llamacpp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/models"
)

// Quantized synthetic specs are made by llama.cpp's quantizer, which this
// package registers with models. The digests are pinned as the generator's
// are (models' TestTinyDigest): a change to the generator (bump
// models.GeneratorVersion) or to llama.cpp's quantizer shows here, and the
// pins are updated with it. The tiny preset's rows (64 and 192 wide) are
// no multiple of the K-quants' 256-value blocks, so llama.cpp falls back
// per tensor: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, Q2_K and Q3_K to
// IQ4_NL.
var tinyQuant = map[string]struct {
	digest string
	types  map[string]int
}{
	"q4_0":   {"d426ed130b5bed11871d2b4ab08dd44d8248d97ceb7961fe56d86b40c4d39c60", map[string]int{"f32": 5, "q4_0": 15, "q8_0": 1}},
	"q4_1":   {"04f210d62300e496354f5bf413e39fdc0d07e2e430699283f636c3405d8f3219", map[string]int{"f32": 5, "q4_1": 15, "q8_0": 1}},
	"q5_0":   {"6b99f15720e870bd0cb78094355df86b00743b1fa0ab6a3819b22cbb6a2d3240", map[string]int{"f32": 5, "q5_0": 15, "q8_0": 1}},
	"q5_1":   {"075f26fbf70e2cfe642346a829eb43f820be2e25c2d1f27479cb916eef47a5ca", map[string]int{"f32": 5, "q5_1": 15, "q8_0": 1}},
	"q2_k":   {"f91d81687a35873094d232bfcfdaafad6cf47f9bcbb6b51ec34353762557fd46", map[string]int{"f32": 5, "iq4_nl": 15, "q8_0": 1}},
	"q3_k_s": {"a8b020227d85a7256b5d9cb6bd4ac59c917f73abf50ab94ea0971ef4c4e01caf", map[string]int{"f32": 5, "iq4_nl": 15, "q8_0": 1}},
	"q3_k_m": {"ca552a5a86c23663552301ed68fa9014911f05c7d8ee381ba1e05a21cb3a306d", map[string]int{"f32": 5, "iq4_nl": 9, "q5_0": 4, "q5_1": 2, "q8_0": 1}},
	"q3_k_l": {"1682bd92a030b988d8f2f32ec5dafe8d203df5012463537c3d0f11ac2dc4d744", map[string]int{"f32": 5, "iq4_nl": 9, "q5_1": 6, "q8_0": 1}},
	"q4_k_s": {"3ca7e9195eaa024ffc0475eee0391f3eca644b99d28a731e35db6ba88706dc5d", map[string]int{"f32": 5, "q5_0": 13, "q5_1": 2, "q8_0": 1}},
	"q4_k_m": {"f34413c958571c86a9c6cf2cf43c37057a0ac2e45c0577df08dbd928281128e6", map[string]int{"f32": 5, "q5_0": 13, "q8_0": 3}},
	"q5_k_s": {"3654cf882ff8bb2a05fe984c5c22e1f3b8468cc091091032a4940fa666aca1a3", map[string]int{"f32": 5, "q5_1": 15, "q8_0": 1}},
	"q5_k_m": {"1e0823fc3e1f91136c32cd32f0caadb965e231d14075327f5cb595f9192452bd", map[string]int{"f32": 5, "q5_1": 13, "q8_0": 3}},
	"q6_k":   {"3ead3ed63206f5d3d2aad2e8c6c0f278e37b27860f64c277c12f070ad00fe81b", map[string]int{"f32": 5, "q8_0": 16}},
	"bf16":   {"179ed14344c3e89027647bc4fb679d3ac9ba941f85970f12bd3856daa73cd199", map[string]int{"f32": 5, "bf16": 16}},
}

func TestQuantizeTypesSameAsModels(t *testing.T) {
	assert.ElementsMatch(t, models.QuantizeTypes(), QuantizeTypes(),
		"models lists the types llamacpp quantizes to (it cannot import llamacpp)")
}

func TestQuantSpecsTiny(t *testing.T) {
	requireNative(t)
	t.Setenv("FAK_CACHE_DIR", t.TempDir())
	require.ElementsMatch(t, models.QuantSpecTypes(), keys(tinyQuant), "a pin for every quantized spec type")
	for _, ft := range models.QuantSpecTypes() {
		spec := "synthetic:tiny:" + ft
		m, err := models.Resolve(context.Background(), spec, nil)
		require.NoError(t, err, spec)
		want := tinyQuant[ft]
		assert.Equal(t, "sha256:"+want.digest, m.Digest, "%s (update the pin when the generator or llama.cpp changes on purpose)", spec)
		assert.Equal(t, want.types, tensorTypes(t, m.Path), spec)
		assert.Equal(t, models.QuantCachePath(models.QuantSpec{Preset: "tiny", FType: ft}), m.Path)
	}
	// The f16 source stays cached beside them.
	assert.FileExists(t, models.CachePath(models.Spec{Preset: "tiny", Type: 1}))
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestQuantSpecSmol135mQ4KM makes synthetic:smol135m-untied:q4_k_m as a user
// gets it (in the user's model cache, once: about 330 MB of f16 and 124 MB of
// Q4_K_M) and checks llama.cpp's Q4_K_M mix on it: Q4_K and Q6_K where the
// rows are multiples of 256 (ffn_down, 1536 wide; Q6_K on half the layers,
// as Q4_K_M does), their fallbacks Q5_0 and Q8_0 on the 576-wide rows.
// llama.cpp then loads and runs it.
func TestQuantSpecSmol135mQ4KM(t *testing.T) {
	requireNative(t)
	if testing.Short() {
		t.Skip("generates and quantizes a 330 MB model the first time")
	}
	m, err := models.Resolve(context.Background(), "synthetic:smol135m-untied:q4_k_m", nil)
	require.NoError(t, err)
	assert.Equal(t, "sha256:31bd40276a77a89f906ce478ee77758bf97c3e1d7fa5e3c26f71e9b3aad78599", m.Digest)
	assert.Equal(t, int64(124168896), m.Size)
	types := tensorTypes(t, m.Path)
	assert.Equal(t, map[string]int{"f32": 61, "q4_K": 16, "q6_K": 14, "q5_0": 167, "q8_0": 15}, types)
	assert.Equal(t, 30, types["q4_K"]+types["q6_K"], "every ffn_down (1536-wide rows) is a K-quant")
	old, err := models.Resolve(context.Background(), "synthetic:smol135m:q4_k_m", nil)
	require.NoError(t, err)
	assert.Equal(t, m.Path, old.Path, "the old preset name is an alias: the same file")
	assert.Equal(t, m.Digest, old.Digest)

	// The synthetic weights give greedy decoding a clear top-1 margin, so
	// the quantized model continues as the f16 one it was made from.
	f16, err := models.Path("synthetic:smol135m-untied:f16")
	require.NoError(t, err)
	prefix, suffix := seqTokens(48, 49152, 1), seqTokens(8, 49152, 2)
	q := greedy(t, newSess(t, open(t, m.Path, adapters.Options{})), prefix, suffix, 16)
	ref := greedy(t, newSess(t, open(t, f16, adapters.Options{})), prefix, suffix, 16)
	assert.Equal(t, ref, q, "Q4_K_M and f16 greedy tokens")
}
