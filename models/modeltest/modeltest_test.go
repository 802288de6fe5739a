package modeltest_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/models/modeltest"
	"github.com/fakbench/fakbench/transport"
)

// identity is the n x n identity matrix.
func identity(n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, n)
		out[i][i] = 1
	}
	return out
}

func zeros(rows, cols int) [][]float64 {
	out := make([][]float64, rows)
	for i := range out {
		out[i] = make([]float64, cols)
	}
	return out
}

// Without blocks the logits are the tied head over the normed embedding.
func TestNoBlocksIsNormAndTiedHead(t *testing.T) {
	emb := [][]float64{{3, 4}, {1, 0}}
	m := &modeltest.Model{Params: modeltest.Params{Embd: 2, Heads: 1, KVHeads: 1, RopeDim: 2, RopeBase: 10000, RopeScale: 1},
		TokEmbd: emb, Output: emb, OutNorm: []float64{1, 2}}
	r := math.Sqrt((9 + 16) / 2.0)
	got := m.Logits([]transport.Token{0})
	require.Len(t, got, 1)
	assert.InDeltaSlice(t, []float64{(3*3 + 4*8) / r, 3 / r}, got[0], 1e-12)
}

// One block of one head with identity projections and no feed-forward,
// worked out by hand: the second position's query and key rotate by one
// radian, its value does not.
func TestAttentionByHand(t *testing.T) {
	m := &modeltest.Model{Params: modeltest.Params{Embd: 2, Heads: 1, KVHeads: 1, RopeDim: 2, RopeBase: 10000, RopeScale: 1},
		TokEmbd: identity(2), Output: identity(2), OutNorm: []float64{1, 1},
		Layers: []modeltest.Layer{{AttnNorm: []float64{1, 1}, FFNNorm: []float64{1, 1},
			Q: identity(2), K: identity(2), V: identity(2), O: identity(2),
			Gate: zeros(2, 2), Up: zeros(2, 2), Down: zeros(2, 2)}}}
	got := m.Logits([]transport.Token{0, 1})
	require.Len(t, got, 2)
	s2 := math.Sqrt2
	norm := func(x []float64) []float64 {
		r := math.Sqrt((x[0]*x[0] + x[1]*x[1]) / 2)
		return []float64{x[0] / r, x[1] / r}
	}
	// Position 0 attends to itself: x = e0 + norm(e0) = (1+√2, 0).
	assert.InDeltaSlice(t, norm([]float64{1 + s2, 0}), got[0], 1e-12)
	// Position 1: n = (0, √2); q = k1 = n rotated by 1 rad, k0 = (√2, 0).
	q := []float64{-s2 * math.Sin(1), s2 * math.Cos(1)}
	s0, s1 := q[0]*s2/s2, (q[0]*q[0]+q[1]*q[1])/s2
	p0 := math.Exp(s0) / (math.Exp(s0) + math.Exp(s1))
	assert.InDeltaSlice(t, norm([]float64{p0 * s2, 1 + (1-p0)*s2}), got[1], 1e-12)
}

// random is a model of the given heads with random weights (seeded).
func random(seed uint64, heads, kvHeads int) *modeltest.Model {
	const embd, ffn, vocab, hd = 16, 24, 10, 4
	rng := rand.New(rand.NewPCG(seed, 1))
	mat := func(rows, cols int) [][]float64 {
		out := make([][]float64, rows)
		for i := range out {
			out[i] = make([]float64, cols)
			for j := range out[i] {
				out[i][j] = rng.NormFloat64() / math.Sqrt(float64(cols))
			}
		}
		return out
	}
	vec := func(n int) []float64 { return mat(1, n)[0] }
	m := &modeltest.Model{Params: modeltest.Params{Embd: embd, Heads: heads, KVHeads: kvHeads, RopeDim: hd,
		Eps: 1e-5, RopeBase: 10000, RopeScale: 1}, TokEmbd: mat(vocab, embd), OutNorm: vec(embd)}
	m.Output = mat(vocab, embd)
	for range 2 {
		m.Layers = append(m.Layers, modeltest.Layer{AttnNorm: vec(embd), FFNNorm: vec(embd),
			Q: mat(embd, embd), K: mat(kvHeads*hd, embd), V: mat(kvHeads*hd, embd), O: mat(embd, embd),
			Gate: mat(ffn, embd), Up: mat(ffn, embd), Down: mat(embd, ffn)})
	}
	return m
}

// Grouped-query attention: query heads 2i and 2i+1 read key/value head i,
// exactly as if every query head had its own copy of it.
func TestGroupedHeadsShareKeysAndValues(t *testing.T) {
	gqa := random(7, 4, 2)
	full := random(7, 4, 2)
	full.KVHeads = 4
	for l := range full.Layers {
		L := &full.Layers[l]
		var k, v [][]float64
		for h := range 2 {
			for range 2 {
				k = append(k, L.K[h*4:(h+1)*4]...)
				v = append(v, L.V[h*4:(h+1)*4]...)
			}
		}
		L.K, L.V = k, v
	}
	toks := []transport.Token{1, 5, 2, 9, 0}
	assert.Equal(t, gqa.Logits(toks), full.Logits(toks))

	// And the mapping matters: pairing the heads the other way changes
	// the logits.
	swapped := random(7, 4, 2)
	for l := range swapped.Layers {
		L := &swapped.Layers[l]
		L.K = append(append([][]float64{}, L.K[4:]...), L.K[:4]...)
	}
	assert.NotEqual(t, gqa.Logits(toks), swapped.Logits(toks))
}

// Attention is causal: a position's logits do not depend on later tokens;
// they do depend on earlier ones.
func TestCausal(t *testing.T) {
	m := random(3, 4, 2)
	toks := []transport.Token{4, 4, 8, 1, 3, 6}
	all := m.Logits(toks)
	for k := 1; k < len(toks); k++ {
		assert.Equal(t, all[:k], m.Logits(toks[:k]), "prefix of %d tokens", k)
	}
	edited := append([]transport.Token{7}, toks[1:]...)
	assert.NotEqual(t, all[len(toks)-1], m.Logits(edited)[len(toks)-1])
	assert.Equal(t, modeltest.Argmax(all[len(toks)-1]), int(m.Greedy(toks, 2)[0]))
}

func TestArgmaxLowestOnTies(t *testing.T) {
	assert.Equal(t, 1, modeltest.Argmax([]float64{0, 3, 3, -1}))
	assert.Equal(t, 0, modeltest.Argmax([]float64{2}))
}

// generated parses the synthetic preset written as type typ.
func generated(t *testing.T, preset string, typ kernels.Type) *gguf.File {
	p, err := models.LookupPreset(preset)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, models.Generate(&buf, p, typ))
	f, err := gguf.Parse(preset+".gguf", buf.Bytes())
	require.NoError(t, err)
	return f
}

// Load takes the file's hyper-parameters and its weights dequantized; the
// rounding options move the logits a little.
func TestLoadSynthetic(t *testing.T) {
	f := generated(t, "tiny", kernels.TypeF32)
	p, err := gguf.ReadLlamaParams(f)
	require.NoError(t, err)
	m := modeltest.Load(t, f)
	assert.Equal(t, modeltest.Params{Embd: p.Embd, Heads: p.Heads, KVHeads: p.KVHeads, RopeDim: p.RopeDim,
		Eps: p.NormEps, RopeBase: p.RopeBase, RopeScale: 1}, m.Params)
	require.Len(t, m.Layers, p.Layers)
	require.Len(t, m.TokEmbd, p.Vocab)
	assert.Len(t, m.TokEmbd[0], p.Embd)
	assert.Len(t, m.Layers[1].Down, p.Embd)
	assert.Len(t, m.Layers[1].Down[0], p.FFN)
	assert.Equal(t, p.TiedOutput, &m.Output[0] == &m.TokEmbd[0], "the tied head is the token table")
	assert.Nil(t, m.RopeFreqs)

	qf := generated(t, "tiny", kernels.TypeQ8_0)
	q := modeltest.Load(t, qf)
	info, ok := qf.Tensor("blk.0.attn_q.weight")
	require.True(t, ok)
	data, err := qf.TensorData("blk.0.attn_q.weight")
	require.NoError(t, err)
	row0, err := kernels.Dequantize(kernels.TypeQ8_0, data[:len(data)/int(info.Dims[1])], int(info.Dims[0]))
	require.NoError(t, err)
	assert.Equal(t, modeltest.Vec(row0), q.Layers[0].Q[0], "q8_0 weights are dequantized as the kernels do")

	toks := []transport.Token{300, 12, 77, 400, 5, 5, 200}
	exact := m.Logits(toks)
	for _, opt := range []func(*modeltest.Model){
		func(m *modeltest.Model) { m.KVF16 = true },
		func(m *modeltest.Model) { m.QuantAct = true },
	} {
		r := modeltest.Load(t, f)
		opt(r)
		got := r.Logits(toks)
		worst, scale := 0.0, 0.0
		for i := range got {
			for j := range got[i] {
				worst = max(worst, math.Abs(got[i][j]-exact[i][j]))
				scale = max(scale, math.Abs(exact[i][j]))
			}
		}
		assert.Positive(t, worst, "rounding changes the logits")
		assert.Less(t, worst/scale, 0.1, "but not by much")
	}
}
