package openvino

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The three kinds of node this project runs on, with the flags that matter
// here (as /proc/cpuinfo lists them, among others) and, for the Xeon, the
// OPTIMIZATION_CAPABILITIES OpenVINO 2026.4 reported.
var (
	zen3Flags = strings.Fields("fpu sse4_2 avx avx2 fma f16c bmi2")
	zen4Flags = strings.Fields("fpu avx avx2 fma f16c avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni avx512vbmi")
	xeonFlags = strings.Fields("fpu fma f16c avx2 avx512f avx512bw avx512vl avx_vnni avx512_bf16 avx512_vnni " +
		"amx_bf16 avx512_fp16 amx_tile amx_int8")
	xeonCaps = "BF16 WINOGRAD FP32 FP16 INT8 BIN EXPORT_IMPORT"
)

func TestPluginISA(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		caps  string
		want  string
	}{
		{"AMX Xeon", xeonFlags, xeonCaps,
			"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512_vnni,avx_vnni,avx512_bf16,avx512_fp16,amx_tile,amx_int8,amx_bf16"},
		{"Zen 4", zen4Flags, "BF16 WINOGRAD FP32 INT8 BIN EXPORT_IMPORT",
			"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512_vnni,avx512_bf16"},
		{"Zen 3", zen3Flags, "FP32 INT8 BIN EXPORT_IMPORT", "avx2,fma,f16c"},
		// A plugin that reported no bf16/fp16 support leaves those units
		// out even on a CPU that has them.
		{"Xeon, f32 and int8 only", xeonFlags, "FP32 INT8",
			"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512_vnni,avx_vnni,amx_tile,amx_int8"},
		{"Xeon, f32 only", xeonFlags, "FP32", "avx2,fma,f16c,avx512f,avx512bw,avx512vl"},
		{"comma-separated capabilities", zen4Flags, "FP32,INT8,BF16",
			"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512_vnni,avx512_bf16"},
		{"flags unknown", nil, xeonCaps, ""},
	} {
		assert.Equal(t, tc.want, pluginISA(tc.flags, tc.caps), tc.name)
	}
}

func TestRowCapabilitiesFollowTheEffectivePrecision(t *testing.T) {
	caps := "BF16 WINOGRAD FP32 FP16 INT8 BIN EXPORT_IMPORT"
	defaults := map[string]string{
		"effective.INFERENCE_PRECISION_HINT":        "bf16",
		"effective.DYNAMIC_QUANTIZATION_GROUP_SIZE": "32",
		"effective.KV_CACHE_PRECISION":              "u8",
	}
	assert.Equal(t, "BF16 WINOGRAD FP32 INT8 BIN EXPORT_IMPORT", rowCapabilities(caps, defaults))
	exact := map[string]string{
		"effective.INFERENCE_PRECISION_HINT":        "f32",
		"effective.DYNAMIC_QUANTIZATION_GROUP_SIZE": "0",
		"effective.KV_CACHE_PRECISION":              "f32",
	}
	assert.Equal(t, "WINOGRAD FP32 BIN EXPORT_IMPORT", rowCapabilities(caps, exact))
	xeon := []string{"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16"}
	assert.Equal(t, "avx2,fma,f16c,avx512f,avx512bw,avx512vl", pluginISA(xeon, rowCapabilities(caps, exact)),
		"a pinned f32 row claims neither the bf16 nor the int8 units")
}
