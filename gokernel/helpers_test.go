package gokernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/models/modeltest"
	"github.com/fakbench/fakbench/transport"
)

// tinyHP is the shape of the synthetic "tiny" preset.
func tinyHP() HParams {
	return HParams{Embd: 64, Layers: 2, FFN: 192, Heads: 4, KVHeads: 2,
		RopeBase: 10000, NormEps: 1e-5, CtxTrain: 512}
}

// memTensors is an in-memory tensor set, the stand-in for a GGUF file.
type memTensors map[string]rawTensor

func (mt memTensors) lookup(name string) (rawTensor, bool, error) {
	t, ok := mt[name]
	return t, ok, nil
}

// putZeros stores an f32 tensor of dims (columns first) holding zeros.
func (mt memTensors) putZeros(name string, dims ...uint64) {
	n := uint64(4)
	for _, d := range dims {
		n *= d
	}
	mt[name] = rawTensor{dims: dims, typ: kernels.TypeF32, data: make([]byte, n)}
}

// encode stores values as type typ (rows of cols values).
func encode(typ kernels.Type, vals []float32, cols int) []byte {
	switch typ {
	case kernels.TypeF32:
		return append([]byte(nil), kernels.F32Bytes(vals)...)
	case kernels.TypeF16:
		b := make([]byte, 2*len(vals))
		kernels.F32ToF16s(b, vals)
		return b
	case kernels.TypeQ8_0:
		rb, err := kernels.RowBytes(typ, cols)
		if err != nil {
			panic(err)
		}
		rows := len(vals) / cols
		b := make([]byte, rows*rb)
		for r := 0; r < rows; r++ {
			kernels.QuantizeQ8_0(b[r*rb:(r+1)*rb], vals[r*cols:(r+1)*cols])
		}
		return b
	}
	panic("encode: unsupported type")
}

// randomTensors makes a complete Llama tensor set of shape hp (Vocab rows in
// the head) with deterministic random weights: matrices of type typ with
// entries N(0, 1/cols)*gain, norms (always f32) around 1.
func randomTensors(hp HParams, typ kernels.Type, seed uint64, tied bool) memTensors {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	mt := memTensors{}
	mat := func(name string, cols, rows int, gain float64) {
		v := make([]float32, cols*rows)
		sd := gain / math.Sqrt(float64(cols))
		for i := range v {
			v[i] = float32(rng.NormFloat64() * sd)
		}
		mt[name] = rawTensor{dims: []uint64{uint64(cols), uint64(rows)}, typ: typ, data: encode(typ, v, cols)}
	}
	norm := func(name string, n int) {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(1 + 0.2*(rng.Float64()-0.5))
		}
		mt[name] = rawTensor{dims: []uint64{uint64(n)}, typ: kernels.TypeF32, data: encode(kernels.TypeF32, v, n)}
	}
	hd := hp.Embd / hp.Heads
	mat("token_embd.weight", hp.Embd, hp.Vocab, math.Sqrt(float64(hp.Embd)))
	if !tied {
		mat("output.weight", hp.Embd, hp.Vocab, 3)
	}
	norm("output_norm.weight", hp.Embd)
	for l := 0; l < hp.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		norm(p+"attn_norm.weight", hp.Embd)
		// A larger query gain sharpens the attention so positions matter.
		mat(p+"attn_q.weight", hp.Embd, hp.Heads*hd, 2)
		mat(p+"attn_k.weight", hp.Embd, hp.KVHeads*hd, 2)
		mat(p+"attn_v.weight", hp.Embd, hp.KVHeads*hd, 1)
		mat(p+"attn_output.weight", hp.Heads*hd, hp.Embd, 1)
		norm(p+"ffn_norm.weight", hp.Embd)
		mat(p+"ffn_gate.weight", hp.Embd, hp.FFN, 1)
		mat(p+"ffn_up.weight", hp.Embd, hp.FFN, 1)
		mat(p+"ffn_down.weight", hp.FFN, hp.Embd, 1)
	}
	return mt
}

// newTestModel builds the tiny model of type typ in memory.
func newTestModel(t testing.TB, typ kernels.Type, opts Options) *Model {
	t.Helper()
	hp := tinyHP()
	hp.Vocab = 512
	m, err := assemble("mem:tiny", "tiny", hp, randomTensors(hp, typ, 7, false).lookup, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// testTokens returns n deterministic token ids below vocab.
func testTokens(n, vocab int, seed uint64) []transport.Token {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]transport.Token, n)
	for i := range out {
		out[i] = transport.Token(rng.IntN(vocab))
	}
	return out
}

// newRefModel is m's weights in the float64 reference forward pass
// (package modeltest), written from the Llama definition independently of
// forward.go; its cache rounds keys and values to f16, as m's does.
func newRefModel(m *Model) *modeltest.Model {
	hp := m.HP
	rm := &modeltest.Model{Params: modeltest.Params{Embd: hp.Embd, Heads: hp.Heads, KVHeads: hp.KVHeads,
		RopeDim: hp.RopeDim, Eps: float64(hp.NormEps), RopeBase: float64(hp.RopeBase), RopeScale: float64(hp.RopeFreqScale)},
		TokEmbd: modeltest.Rows(m.TokEmbd), Output: modeltest.Rows(m.Output), OutNorm: modeltest.Vec(m.OutNorm), KVF16: true}
	if m.RopeFreqs != nil {
		rm.RopeFreqs = modeltest.Vec(m.RopeFreqs)
	}
	for _, L := range m.Layers {
		rm.Layers = append(rm.Layers, modeltest.Layer{
			AttnNorm: modeltest.Vec(L.AttnNorm), FFNNorm: modeltest.Vec(L.FFNNorm),
			Q: modeltest.Rows(L.Wq), K: modeltest.Rows(L.Wk), V: modeltest.Rows(L.Wv), O: modeltest.Rows(L.Wo),
			Gate: modeltest.Rows(L.Gate), Up: modeltest.Rows(L.Up), Down: modeltest.Rows(L.Down),
		})
	}
	return rm
}

// assertLogitsMatch holds all, the logits of every position of toks, to
// want (rm's) within logitTol[typ] and, for q8_0, to rm's logits with the
// activation rounding within q8ActTol.
func assertLogitsMatch(t *testing.T, rm *modeltest.Model, toks []transport.Token, all []float32, want [][]float64, typ kernels.Type) {
	t.Helper()
	worst := worstRelErr(t, all, want)
	t.Logf("%v: worst relative logit error %.2e over %d positions", typ, worst, len(toks))
	assert.Less(t, worst, logitTol[typ])
	if typ == kernels.TypeQ8_0 {
		rm.QuantAct = true
		defer func() { rm.QuantAct = false }()
		worst = worstRelErr(t, all, rm.Logits(toks))
		t.Logf("q8_0 with activation rounding in the reference: worst %.2e", worst)
		assert.Less(t, worst, q8ActTol)
	}
}

// worstRelErr is the largest max|got-want|/max|want| over the positions of
// want, got holding each position's logits one after the other; every
// reference position must have logits of some size (max |logit| > 0.5).
func worstRelErr(t *testing.T, got []float32, want [][]float64) float64 {
	t.Helper()
	worst := 0.0
	for p, w := range want {
		diff, scale := maxAbsDiff(got[p*len(w):(p+1)*len(w)], w)
		require.Greater(t, scale, 0.5, "reference logits are degenerate at position %d", p)
		worst = math.Max(worst, diff/scale)
	}
	return worst
}

// maxAbsDiff returns max |a[i]-b[i]| and max |b[i]|.
func maxAbsDiff(a []float32, b []float64) (diff, scale float64) {
	for i := range b {
		diff = math.Max(diff, math.Abs(float64(a[i])-b[i]))
		scale = math.Max(scale, math.Abs(b[i]))
	}
	return diff, scale
}
