package openvino

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/transport"
)

// tinyShape is the synthetic "tiny" preset's shape.
type tinyShape struct {
	embd, layers, heads, kvHeads, ffn, vocab, ctx int
}

var tiny = tinyShape{embd: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 192, vocab: 512, ctx: 512}

// writeTinyGGUF writes a deterministic random Llama model with weights of
// type wt (f32, f16 or q8_0; norms always f32) and returns its path. With
// twin set it writes, instead, f32 weights holding exactly the values the
// wt encoding decodes to (the same seed gives the same model), so an f32
// reference can check the decompression of wt.
func writeTinyGGUF(t testing.TB, dir string, sh tinyShape, wt gguf.TensorType, seed int64, twin bool) string {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	w := gguf.NewWriter()
	kv := []struct {
		k string
		v any
	}{
		{"general.architecture", "llama"},
		{"general.name", "openvino-test-tiny"},
		{"llama.embedding_length", uint32(sh.embd)},
		{"llama.block_count", uint32(sh.layers)},
		{"llama.attention.head_count", uint32(sh.heads)},
		{"llama.attention.head_count_kv", uint32(sh.kvHeads)},
		{"llama.feed_forward_length", uint32(sh.ffn)},
		{"llama.context_length", uint32(sh.ctx)},
		{"llama.rope.freq_base", float32(10000)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
	}
	for _, e := range kv {
		require.NoError(t, w.AddKV(e.k, e.v))
	}
	matrix := func(name string, cols, rows int, scale float64) {
		x := make([]float32, cols*rows)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * scale)
		}
		enc := encode(t, wt, x)
		if twin {
			require.NoError(t, w.AddTensor(name, gguf.TypeF32, []uint64{uint64(cols), uint64(rows)}, encode(t, gguf.TypeF32, decode(t, wt, enc))))
			return
		}
		require.NoError(t, w.AddTensor(name, wt, []uint64{uint64(cols), uint64(rows)}, enc))
	}
	norm := func(name string) {
		x := make([]float32, sh.embd)
		for i := range x {
			x[i] = float32(1 + 0.1*rng.NormFloat64())
		}
		require.NoError(t, w.AddTensor(name, gguf.TypeF32, []uint64{uint64(sh.embd)}, encode(t, gguf.TypeF32, x)))
	}
	kvd := sh.embd / sh.heads * sh.kvHeads
	matrix("token_embd.weight", sh.embd, sh.vocab, 1)
	for i := 0; i < sh.layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		norm(p + "attn_norm.weight")
		matrix(p+"attn_q.weight", sh.embd, sh.embd, 0.5/math.Sqrt(float64(sh.embd)))
		matrix(p+"attn_k.weight", sh.embd, kvd, 0.5/math.Sqrt(float64(sh.embd)))
		matrix(p+"attn_v.weight", sh.embd, kvd, 1/math.Sqrt(float64(sh.embd)))
		matrix(p+"attn_output.weight", sh.embd, sh.embd, 1/math.Sqrt(float64(sh.embd)))
		norm(p + "ffn_norm.weight")
		matrix(p+"ffn_gate.weight", sh.embd, sh.ffn, 1/math.Sqrt(float64(sh.embd)))
		matrix(p+"ffn_up.weight", sh.embd, sh.ffn, 1/math.Sqrt(float64(sh.embd)))
		matrix(p+"ffn_down.weight", sh.ffn, sh.embd, 1/math.Sqrt(float64(sh.ffn)))
	}
	norm("output_norm.weight")
	matrix("output.weight", sh.embd, sh.vocab, 1/math.Sqrt(float64(sh.embd)))
	path := filepath.Join(dir, fmt.Sprintf("tiny-%s-%d-twin%v.gguf", wt, seed, twin))
	require.NoError(t, w.WriteFile(path))
	return path
}

func encode(t testing.TB, wt gguf.TensorType, x []float32) []byte {
	switch wt {
	case gguf.TypeF32:
		b := make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	case gguf.TypeF16:
		b := make([]byte, 2*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint16(b[2*i:], f32ToF16(v))
		}
		return b
	case gguf.TypeQ8_0:
		return quantQ8(x)
	case gguf.TypeQ4_0, gguf.TypeQ4_1:
		return quantQ4(x, wt == gguf.TypeQ4_1)
	}
	t.Fatalf("encode: unsupported type %v", wt)
	return nil
}

// requireRuntime skips (or, with FAK_REQUIRE_OPENVINO=1, fails) when the
// runtime cannot be loaded.
func requireRuntime(t *testing.T) {
	t.Helper()
	requireAvailable(t, "the OpenVINO runtime", Available)
}

// requireStateful skips (or, with FAK_REQUIRE_OPENVINO=1, fails) when the
// runtime or fakbench's library cannot be loaded: what the stateful rows
// need.
func requireStateful(t *testing.T) {
	t.Helper()
	requireAvailable(t, "the OpenVINO runtime or fakbench's OpenVINO library", AvailableStateful)
}

// requireAvailable skips the test, or fails it with FAK_REQUIRE_OPENVINO=1,
// when available says that what it checks cannot be loaded.
func requireAvailable(t *testing.T, what string, available func() error) {
	t.Helper()
	if err := available(); err != nil {
		env.RequireOpenVINO.SkipIfMissing(t, fmt.Errorf("%s is unavailable: %w", what, err))
	}
}

// parityRows are the OpenVINO rows the parity tests compare with a
// reference backend: the stateful writer, its explicit-kv form and the
// GGUF frontend.
var parityRows = []struct {
	name, backend string
	extra         map[string]string
}{
	{"stateful", Name, nil},
	{"explicit-kv", Name, map[string]string{ExtraKVCache: kvExplicit}},
	{"gguf-frontend", NameGGUF, nil},
}

// forParityRows opens each of parityRows with opts in a subtest, with
// OpenVINO's precisions pinned (exact()) and checked, and hands it to
// check; a row skips where what it needs is missing.
func forParityRows(t *testing.T, opts adapters.Options, check func(t *testing.T, name string, ov transport.Backend)) {
	for _, row := range parityRows {
		t.Run(row.name, func(t *testing.T) {
			if row.backend == NameGGUF || row.extra == nil {
				requireStateful(t)
			}
			o := opts
			o.Extra = exact()
			for k, v := range row.extra {
				o.Extra[k] = v
			}
			ov, err := adapters.Open(bg, row.backend, o)
			require.NoError(t, err)
			defer ov.Close()
			requireExact(t, asBackend(t, ov))
			check(t, row.name, ov)
		})
	}
}

// exact is what every test that compares logits or greedy tokens with a
// reference (the float64 forward pass, the Go kernel, llama.cpp) opens the
// backend with: ExactExtra pins f32 inference precision, dynamic
// quantization off, an f32 KV cache and the ACCURACY execution mode, so the
// CPU plugin computes in f32 on any ISA. Without the pins it picks its
// precisions per CPU: on the AMX Xeon (OpenVINO 2026.4) bf16 inference and
// int8 activations (group 32) for the compressed weights, which put the
// tiny models' logits 7.1e-3 to 9.1e-3 of the largest logit away from the
// float64 reference, and q8_0 1.27e-2 away with only the precision pinned.
// Tests that compare the backend with itself (warm and cold, cancelled and
// uninterrupted) and the benchmark keep the plugin's tuned defaults (nil).
func exact() map[string]string { return ExactExtra() }

// openTiny opens the backend on a fresh tiny model of type wt with the
// given Extra settings (exact() or nil for the plugin's defaults), with an
// IR cache of the test's own (FAK_CACHE_DIR), so the first Open writes the IR.
func openTiny(t *testing.T, wt gguf.TensorType, extra map[string]string) (*Backend, string) {
	t.Helper()
	requireRuntime(t)
	if extra[ExtraKVCache] != kvExplicit {
		requireStateful(t)
	}
	t.Setenv(env.CacheDir.Name, t.TempDir())
	dir := t.TempDir()
	path := writeTinyGGUF(t, dir, tiny, wt, 7, false)
	b, err := Open(context.Background(), adapters.Options{ModelPath: path, Threads: 2, Extra: extra})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b, path
}

// f32ToF16 rounds to the nearest half (normal range; the test weights are
// far from the limits).
func f32ToF16(f float32) uint16 {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int((bits>>23)&0xff) - 127 + 15
	mant := bits & 0x7fffff
	if exp <= 0 {
		return sign // flush tiny values to zero
	}
	h := uint32(exp)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++
	}
	return sign | uint16(h)
}

// quantQ8 encodes x as q8_0 blocks: an f16 scale d = max|x|/127 and 32
// int8 values round(x/d), as ggml does.
func quantQ8(x []float32) []byte {
	b := make([]byte, len(x)/32*34)
	for blk := 0; blk < len(x)/32; blk++ {
		v := x[blk*32 : blk*32+32]
		amax := float32(0)
		for _, e := range v {
			amax = max(amax, float32(math.Abs(float64(e))))
		}
		d := amax / 127
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		o := b[blk*34:]
		binary.LittleEndian.PutUint16(o, f32ToF16(d))
		for i, e := range v {
			o[2+i] = byte(int8(math.Round(float64(e * id))))
		}
	}
	return b
}

func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		return float32(math.Ldexp(float64(mant), -24)) * map[bool]float32{true: -1, false: 1}[sign != 0]
	}
	return math.Float32frombits(sign | (exp-15+127)<<23 | mant<<13)
}

// decode is the inverse of encode.
func decode(t testing.TB, wt gguf.TensorType, b []byte) []float32 {
	switch wt {
	case gguf.TypeF32:
		x := make([]float32, len(b)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return x
	case gguf.TypeF16:
		x := make([]float32, len(b)/2)
		for i := range x {
			x[i] = f16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return x
	case gguf.TypeQ8_0:
		x := make([]float32, len(b)/34*32)
		for blk := 0; blk < len(b)/34; blk++ {
			d := f16ToF32(binary.LittleEndian.Uint16(b[blk*34:]))
			for i := 0; i < 32; i++ {
				x[blk*32+i] = d * float32(int8(b[blk*34+2+i]))
			}
		}
		return x
	case gguf.TypeQ4_0, gguf.TypeQ4_1:
		bs, off := 18, 2
		if wt == gguf.TypeQ4_1 {
			bs, off = 20, 4
		}
		x := make([]float32, len(b)/bs*32)
		for blk := 0; blk < len(b)/bs; blk++ {
			o := b[blk*bs:]
			d := f16ToF32(binary.LittleEndian.Uint16(o))
			for j := 0; j < 16; j++ {
				lo, hi := float32(o[off+j]&0x0f), float32(o[off+j]>>4)
				if wt == gguf.TypeQ4_0 {
					x[blk*32+j], x[blk*32+j+16] = d*(lo-8), d*(hi-8)
				} else {
					m := f16ToF32(binary.LittleEndian.Uint16(o[2:]))
					x[blk*32+j], x[blk*32+j+16] = d*lo+m, d*hi+m
				}
			}
		}
		return x
	}
	t.Fatalf("decode: unsupported type %v", wt)
	return nil
}

// quantQ4 encodes x as q4_0 (withMin false: d = -max/8 where max is the
// value of largest magnitude, codes round(x/d)+8) or q4_1 (d = (max-min)/15,
// m = min, codes round((x-m)/d)), in ggml's block layout: byte j of the
// codes holds element j in its low and element j+16 in its high nibble.
func quantQ4(x []float32, withMin bool) []byte {
	bs, off := 18, 2
	if withMin {
		bs, off = 20, 4
	}
	b := make([]byte, len(x)/32*bs)
	var q [32]byte
	for blk := 0; blk < len(x)/32; blk++ {
		v := x[blk*32 : blk*32+32]
		o := b[blk*bs:]
		if withMin {
			lo, hi := v[0], v[0]
			for _, e := range v {
				lo, hi = min(lo, e), max(hi, e)
			}
			d := (hi - lo) / 15
			binary.LittleEndian.PutUint16(o, f32ToF16(d))
			binary.LittleEndian.PutUint16(o[2:], f32ToF16(lo))
			for i, e := range v {
				c := 0.0
				if d != 0 {
					c = math.Round(float64((e - lo) / d))
				}
				q[i] = byte(min(15, max(0, c)))
			}
		} else {
			big := float32(0)
			for _, e := range v {
				if math.Abs(float64(e)) > math.Abs(float64(big)) {
					big = e
				}
			}
			d := big / -8
			binary.LittleEndian.PutUint16(o, f32ToF16(d))
			for i, e := range v {
				c := 8.0
				if d != 0 {
					c = math.Round(float64(e/d)) + 8
				}
				q[i] = byte(min(15, max(0, c)))
			}
		}
		for j := 0; j < 16; j++ {
			o[off+j] = q[j] | q[j+16]<<4
		}
	}
	return b
}
