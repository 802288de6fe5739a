package llamacpp

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
)

// llamaTensors lays out the weight matrices of a Llama model with the
// given shape (GGUF dims: ne[0] = input K, ne[1] = output rows).
func llamaTensors(embd, ffn, kv, vocab, layers uint64, typ gguf.TensorType, tied bool) []gguf.TensorInfo {
	ts := []gguf.TensorInfo{{Name: "token_embd.weight", Dims: []uint64{embd, vocab}, Type: typ}}
	if !tied {
		ts = append(ts, gguf.TensorInfo{Name: "output.weight", Dims: []uint64{embd, vocab}, Type: typ})
	}
	for l := range layers {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			gguf.TensorInfo{Name: p + "attn_norm.weight", Dims: []uint64{embd}, Type: gguf.TypeF32},
			gguf.TensorInfo{Name: p + "attn_q.weight", Dims: []uint64{embd, embd}, Type: typ},
			gguf.TensorInfo{Name: p + "attn_k.weight", Dims: []uint64{embd, kv}, Type: typ},
			gguf.TensorInfo{Name: p + "attn_v.weight", Dims: []uint64{embd, kv}, Type: typ},
			gguf.TensorInfo{Name: p + "attn_output.weight", Dims: []uint64{embd, embd}, Type: typ},
			gguf.TensorInfo{Name: p + "ffn_gate.weight", Dims: []uint64{embd, ffn}, Type: typ},
			gguf.TensorInfo{Name: p + "ffn_up.weight", Dims: []uint64{embd, ffn}, Type: typ},
			gguf.TensorInfo{Name: p + "ffn_down.weight", Dims: []uint64{ffn, embd}, Type: typ},
		)
	}
	return ts
}

func TestAnalyzeAMXShapes(t *testing.T) {
	// SmolLM2-135M shape: K = 576 or 1536, never a multiple of 2048.
	smol := analyzeAMX(llamaTensors(576, 1536, 192, 49152, 30, gguf.TypeQ8_0, true))
	assert.Equal(t, 30*7+1, smol.total, "7 matrices a layer plus the tied output head")
	assert.Equal(t, 0, smol.eligible)
	assert.Equal(t, []uint64{576, 1536}, smol.badK)
	assert.Empty(t, smol.badN)
	assert.Empty(t, smol.badType)

	// Llama-3.2-1B shape: K = 2048 or 8192, every output a multiple of 32.
	big := analyzeAMX(llamaTensors(2048, 8192, 512, 128256, 16, gguf.TypeQ8_0, false))
	assert.Equal(t, 16*7+1, big.total, "the untied embedding table is a lookup, not a product")
	assert.Equal(t, big.total, big.eligible)

	// A type without AMX kernels (f32) is named.
	f32 := analyzeAMX(llamaTensors(2048, 8192, 512, 128256, 1, gguf.TypeF32, false))
	assert.Equal(t, 0, f32.eligible)
	assert.Equal(t, []string{"f32"}, f32.badType)
}

func TestAMXVerdict(t *testing.T) {
	smol := analyzeAMX(llamaTensors(576, 1536, 192, 49152, 2, gguf.TypeQ8_0, true))
	big := analyzeAMX(llamaTensors(2048, 8192, 512, 128256, 2, gguf.TypeQ8_0, false))
	cases := []struct {
		name string
		f    amxFacts
		want string
	}{
		{"no AMX", amxFacts{compiled: true, extraBufts: true, shapes: big}, "not available: this CPU has no AMX-INT8"},
		{"not compiled", amxFacts{cpuHasAMX: true, extraBufts: true, shapes: big}, "not compiled: the build did not target AMX-INT8"},
		{"off", amxFacts{cpuHasAMX: true, compiled: true, shapes: big}, "off: extra_bufts=off"},
		{"engaged", amxFacts{cpuHasAMX: true, compiled: true, extraBufts: true, shapes: big, buffers: map[string]float64{"AMX": 1399.47}},
			"engaged: 1399.47 MiB of weights in the AMX buffer (15 of 15 weight matrices meet ggml's AMX shape rule)"},
		{"shape", amxFacts{cpuHasAMX: true, compiled: true, extraBufts: true, shapes: smol, buffers: map[string]float64{"CPU_Mapped": 165}},
			"not engaged: none of the 15 weight matrices meets ggml's AMX rule in this llama.cpp (type q4_0/q4_1/q8_0/q4_K/q5_K/q6_K/iq4_xs/f16, K % 2048 == 0, output rows % 32 == 0): input dimension K 576, 1536, not a multiple of 2048"},
		{"eligible but unused", amxFacts{cpuHasAMX: true, compiled: true, extraBufts: true, shapes: big},
			"not engaged although 15 of 15 weight matrices meet ggml's AMX shape rule"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Contains(t, c.f.verdict(), c.want)
		})
	}
}

func TestWeightBuffersFromTheLoadLog(t *testing.T) {
	log := "load_tensors: tensor 'token_embd.weight' (q8_0) (and 33 others) cannot be used with preferred buffer type AMX, using CPU instead\n" +
		"load_tensors:          AMX model buffer size =  1399.47 MiB\n" +
		"load_tensors:   CPU_Mapped model buffer size =  1252.41 MiB\n" +
		"llama_context:        CPU  output buffer size =     0.19 MiB\n"
	b := weightBuffers(log)
	require.Len(t, b, 2, "only model (weight) buffers count")
	assert.InDelta(t, 1399.47, b["AMX"], 1e-9)
	assert.Equal(t, "AMX 1399.47 MiB, CPU_Mapped 1252.41 MiB", formatBuffers(b))
	assert.Equal(t, "not reported by llama.cpp", formatBuffers(weightBuffers("")))
}

func TestISAFromSystemInfo(t *testing.T) {
	info := "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 |"
	assert.Equal(t, "avx_vnni,avx2,f16c,fma,avx512f,avx512vbmi,avx512_vnni,avx512_bf16,amx_tile,amx_int8", isaFromSystemInfo(info, true))
	assert.Equal(t, "avx_vnni,avx2,f16c,fma,avx512f,avx512vbmi,avx512_vnni,avx512_bf16", isaFromSystemInfo(info, false),
		"AMX compiled in but not taking this model's weights is not used")
	zen3 := "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 |"
	assert.Equal(t, "avx2,f16c,fma", isaFromSystemInfo(zen3, false))
	assert.Equal(t, "", isaFromSystemInfo("", false))
}
