package openvino

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
)

func TestResolveConfigDefaultsPinNothing(t *testing.T) {
	c, err := resolveConfig(adapters.Options{}, false)
	require.NoError(t, err)
	assert.Equal(t, DefaultBatch, c.batch)
	assert.Empty(t, c.irCacheDir)
	assert.Empty(t, c.pins, "without Extra the plugin's per-ISA defaults apply")
}

func TestResolveConfigEmptyValueIsDefault(t *testing.T) {
	c, err := resolveConfig(adapters.Options{Extra: map[string]string{ExtraBatch: "", ExtraInferencePrecision: " "}}, false)
	require.NoError(t, err)
	assert.Equal(t, DefaultBatch, c.batch)
	assert.Empty(t, c.pins)
}

func TestResolveConfigExactExtra(t *testing.T) {
	c, err := resolveConfig(adapters.Options{Extra: ExactExtra()}, false)
	require.NoError(t, err)
	assert.Equal(t, []property{
		{"EXECUTION_MODE_HINT", "ACCURACY"},
		{"INFERENCE_PRECISION_HINT", "f32"},
		{"DYNAMIC_QUANTIZATION_GROUP_SIZE", "0"},
		{"KV_CACHE_PRECISION", "f32"},
	}, c.pins)
	// Each call returns a fresh map: a caller may change its copy.
	m := ExactExtra()
	m[ExtraInferencePrecision] = "bf16"
	assert.Equal(t, "f32", ExactExtra()[ExtraInferencePrecision])
}

func TestResolveConfigValues(t *testing.T) {
	c, err := resolveConfig(adapters.Options{Extra: map[string]string{
		ExtraBatch: " 64 ", ExtraIRCacheDir: "/tmp/ir", ExtraInferencePrecision: "BF16",
		ExtraDynamicQuantGroupSize: "64", ExtraKVCachePrecision: "U8", ExtraExecutionMode: "performance",
		ExtraKVCache: "Explicit",
	}}, false)
	require.NoError(t, err)
	assert.Equal(t, 64, c.batch)
	assert.Equal(t, kvExplicit, c.kv)
	assert.Equal(t, "/tmp/ir", c.irCacheDir)
	assert.Equal(t, []property{
		{"EXECUTION_MODE_HINT", "PERFORMANCE"},
		{"INFERENCE_PRECISION_HINT", "bf16"},
		{"DYNAMIC_QUANTIZATION_GROUP_SIZE", "64"},
		{"KV_CACHE_PRECISION", "u8"},
	}, c.pins, "values normalized to the plugin's spelling")
}

func TestResolveConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		key, value, want string
	}{
		{ExtraBatch, "0", `batch="0": want a positive integer`},
		{ExtraBatch, "x", `batch="x"`},
		{ExtraInferencePrecision, "f64", `inference_precision="f64": want f32, bf16 or f16`},
		{ExtraDynamicQuantGroupSize, "-1", `dynamic_quantization_group_size="-1": want a non-negative integer`},
		{ExtraKVCachePrecision, "i4", `kv_cache_precision="i4": want f32, f16, bf16, u8 or u4`},
		{ExtraExecutionMode, "FAST", `execution_mode="FAST": want PERFORMANCE or ACCURACY`},
		{"inference_precison", "f32", `unknown option "inference_precison"`},
	} {
		_, err := resolveConfig(adapters.Options{Extra: map[string]string{tc.key: tc.value}}, false)
		require.Error(t, err, "%s=%s", tc.key, tc.value)
		assert.ErrorContains(t, err, tc.want)
		if strings.HasPrefix(tc.want, "unknown") {
			assert.ErrorContains(t, err, strings.Join(extraKeys, ", "), "the error lists the known keys")
		}
	}
}

// An option error comes before the runtime is looked for, so it is the
// same with or without OpenVINO installed.
func TestOpenRejectsBadOptionFirst(t *testing.T) {
	_, err := Open(bg, adapters.Options{ModelPath: "nonexistent.gguf", Extra: map[string]string{"precision": "exact"}})
	assert.ErrorContains(t, err, `openvino: unknown option "precision"`)
}

func TestRegistryExactIsExactExtra(t *testing.T) {
	// fakbench parity opens every backend with its registry entry's Exact
	// settings: for OpenVINO those are the pins the exactness tests use.
	e, err := adapters.Lookup(Name)
	require.NoError(t, err)
	assert.Equal(t, ExactExtra(), e.Exact)
}
