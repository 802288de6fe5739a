package gokernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gokernel/kernels"
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

// ---- the float64 reference forward pass -------------------------------
//
// Written from the Llama definition, independently of forward.go: weights
// are expanded to float64 once, every sum is float64, rotary angles are
// pos * base^(-2i/n_rot) computed directly, attention materialises the full
// causal score row and takes a two-pass softmax.

type refLayer struct {
	attnNorm, ffnNorm            []float64
	wq, wk, wv, wo, gate, up, dn [][]float64
}

type refModel struct {
	ropeScale float64   // rotary angle multiplier (1/scaling factor)
	ropeFreqs []float64 // per-pair angle divisors, nil for none
	// quantAct rounds every matmul input through q8_0 (block of 32, scale
	// max|x|/127), which is what ggml and the Go kernel do for q8_0 weights.
	quantAct bool
	hp       HParams
	emb, out [][]float64
	outNorm  []float64
	layers   []refLayer
}

func toF64(m *kernels.Matrix) [][]float64 {
	out := make([][]float64, m.Rows)
	row := make([]float32, m.Cols)
	for r := range out {
		m.DequantRow(r, row)
		out[r] = make([]float64, m.Cols)
		for c, v := range row {
			out[r][c] = float64(v)
		}
	}
	return out
}

func vecF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func newRefModel(m *Model) *refModel {
	rm := &refModel{hp: m.HP, emb: toF64(m.TokEmbd), out: toF64(m.Output), outNorm: vecF64(m.OutNorm),
		ropeScale: float64(m.HP.RopeFreqScale)}
	if m.RopeFreqs != nil {
		rm.ropeFreqs = vecF64(m.RopeFreqs)
	}
	for _, L := range m.Layers {
		rm.layers = append(rm.layers, refLayer{
			attnNorm: vecF64(L.AttnNorm), ffnNorm: vecF64(L.FFNNorm),
			wq: toF64(L.Wq), wk: toF64(L.Wk), wv: toF64(L.Wv), wo: toF64(L.Wo),
			gate: toF64(L.Gate), up: toF64(L.Up), dn: toF64(L.Down),
		})
	}
	return rm
}

func (rm *refModel) matVec(w [][]float64, x []float64) []float64 {
	if !rm.quantAct {
		return refMatVec(w, x)
	}
	xf := make([]float32, len(x))
	for i, v := range x {
		xf[i] = float32(v)
	}
	q := make([]byte, len(x)/kernels.QK8_0*kernels.BlockQ8_0Bytes)
	kernels.QuantizeQ8_0(q, xf)
	kernels.DequantizeQ8_0(xf, q)
	return refMatVec(w, vecF64(xf))
}

func refMatVec(w [][]float64, x []float64) []float64 {
	y := make([]float64, len(w))
	for r, row := range w {
		var s float64
		for c, v := range row {
			s += v * x[c]
		}
		y[r] = s
	}
	return y
}

func refRMSNorm(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	k := 1 / math.Sqrt(ss/float64(len(x))+eps)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * k * w[i]
	}
	return y
}

// rope rotates pairs (2i, 2i+1) of each head's first RopeDim values by
// pos * scale / factor_i * base^(-2i/RopeDim).
func (rm *refModel) rope(v []float64, heads int, pos int) {
	headDim, ropeDim, base := rm.hp.Embd/rm.hp.Heads, rm.hp.RopeDim, float64(rm.hp.RopeBase)
	for h := 0; h < heads; h++ {
		for i := 0; i < ropeDim/2; i++ {
			theta := float64(pos) * rm.ropeScale * math.Pow(base, -2*float64(i)/float64(ropeDim))
			if rm.ropeFreqs != nil {
				theta /= rm.ropeFreqs[i]
			}
			c, s := math.Cos(theta), math.Sin(theta)
			a, b := v[h*headDim+2*i], v[h*headDim+2*i+1]
			v[h*headDim+2*i] = a*c - b*s
			v[h*headDim+2*i+1] = a*s + b*c
		}
	}
}

// logits returns the logits of every position of toks (from position 0).
func (rm *refModel) logits(toks []transport.Token) [][]float64 {
	hp := rm.hp
	hd := hp.Embd / hp.Heads
	eps := float64(hp.NormEps)
	n := len(toks)
	xs := make([][]float64, n)
	for t, tok := range toks {
		xs[t] = append([]float64(nil), rm.emb[tok]...)
	}
	for _, L := range rm.layers {
		qs, ks, vs := make([][]float64, n), make([][]float64, n), make([][]float64, n)
		for t := range xs {
			h := refRMSNorm(xs[t], L.attnNorm, eps)
			qs[t], ks[t], vs[t] = rm.matVec(L.wq, h), rm.matVec(L.wk, h), rm.matVec(L.wv, h)
			rm.rope(qs[t], hp.Heads, t)
			rm.rope(ks[t], hp.KVHeads, t)
			// The cache keeps keys and values in f16, as llama.cpp does.
			roundF16(ks[t])
			roundF16(vs[t])
		}
		for t := range xs {
			att := make([]float64, hp.Heads*hd)
			for h := 0; h < hp.Heads; h++ {
				kvh := h * hp.KVHeads / hp.Heads
				sc := make([]float64, t+1)
				mx := math.Inf(-1)
				for j := 0; j <= t; j++ {
					var d float64
					for k := 0; k < hd; k++ {
						d += qs[t][h*hd+k] * ks[j][kvh*hd+k]
					}
					sc[j] = d / math.Sqrt(float64(hd))
					mx = math.Max(mx, sc[j])
				}
				var sum float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range sc {
					for k := 0; k < hd; k++ {
						att[h*hd+k] += sc[j] / sum * vs[j][kvh*hd+k]
					}
				}
			}
			o := rm.matVec(L.wo, att)
			for i := range xs[t] {
				xs[t][i] += o[i]
			}
			h := refRMSNorm(xs[t], L.ffnNorm, eps)
			g, u := rm.matVec(L.gate, h), rm.matVec(L.up, h)
			for i := range g {
				g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
			}
			d := rm.matVec(L.dn, g)
			for i := range xs[t] {
				xs[t][i] += d[i]
			}
		}
	}
	out := make([][]float64, n)
	for t := range xs {
		out[t] = rm.matVec(rm.out, refRMSNorm(xs[t], rm.outNorm, eps))
	}
	return out
}

// roundF16 rounds every value to half precision (through float32, as the
// kernel's cache stores it).
func roundF16(v []float64) {
	for i, x := range v {
		v[i] = float64(kernels.F16ToF32(kernels.F32ToF16(float32(x))))
	}
}

// assertLogitsMatch holds all, the logits of every position of toks, to
// want (rm's) within logitTol[typ] and, for q8_0, to rm's logits with the
// activation rounding within q8ActTol.
func assertLogitsMatch(t *testing.T, rm *refModel, toks []transport.Token, all []float32, want [][]float64, typ kernels.Type) {
	t.Helper()
	worst := worstRelErr(t, all, want)
	t.Logf("%v: worst relative logit error %.2e over %d positions", typ, worst, len(toks))
	assert.Less(t, worst, logitTol[typ])
	if typ == kernels.TypeQ8_0 {
		rm.quantAct = true
		defer func() { rm.quantAct = false }()
		worst = worstRelErr(t, all, rm.logits(toks))
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
