// Package modeltest is, for tests, the Llama forward pass written once in
// float64 straight from the definitions: token embeddings, RMSNorm, rotary
// embeddings on adjacent pairs, grouped-query causal attention with a
// two-pass softmax, a SwiGLU feed-forward block and a tied or untied output
// head, over weights dequantized to float64 once. It depends on no backend,
// so it is the independent check of every backend's forward pass (the Go
// kernel's, OpenVINO's IR) and the measure of the synthetic models' logits.
package modeltest

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/transport"
)

// Params are the hyper-parameters the forward pass uses.
type Params struct {
	// Embd is the embedding width, Heads the query heads (Embd/Heads wide),
	// KVHeads the key and value heads (a divisor of Heads).
	Embd, Heads, KVHeads int
	// RopeDim is how many values at the start of each head rotate (an even
	// number up to Embd/Heads).
	RopeDim int
	// Eps is the RMSNorm epsilon, RopeBase the rotary frequency base.
	Eps, RopeBase float64
	// RopeScale multiplies every rotary angle (1: no scaling).
	RopeScale float64
}

// Layer is one transformer block's weights, each matrix as rows of its
// output features.
type Layer struct {
	AttnNorm, FFNNorm          []float64
	Q, K, V, O, Gate, Up, Down [][]float64
}

// Model is a Llama model in float64.
type Model struct {
	Params
	// TokEmbd has a row per token; Output too, and is TokEmbd for a tied
	// head.
	TokEmbd, Output [][]float64
	OutNorm         []float64
	// RopeFreqs divides pair i's rotary angle by RopeFreqs[i] (nil: none).
	RopeFreqs []float64
	Layers    []Layer
	// KVF16 rounds every key and value to f16 as it enters the cache, as
	// llama.cpp's cache and the Go kernel's store them.
	KVF16 bool
	// QuantAct rounds every matmul input through q8_0 (blocks of 32, scale
	// max|x|/127), which is what ggml and the Go kernel do for q8_0 weights.
	QuantAct bool
}

// Load reads f's hyper-parameters (gguf.ReadLlamaParams) and its weights
// of any type the kernels dequantize; a file without output.weight has the
// tied head.
func Load(t testing.TB, f *gguf.File) *Model {
	t.Helper()
	p, err := gguf.ReadLlamaParams(f)
	require.NoError(t, err)
	mat := func(name string) [][]float64 {
		info, ok := f.Tensor(name)
		require.True(t, ok, "tensor %s", name)
		data, err := f.TensorData(name)
		require.NoError(t, err, name)
		rows := 1
		if len(info.Dims) > 1 {
			rows = int(info.Dims[1])
		}
		w, err := kernels.NewMatrix(kernels.Type(info.Type), rows, int(info.Dims[0]), data)
		require.NoError(t, err, name)
		return Rows(w)
	}
	m := &Model{Params: Params{Embd: p.Embd, Heads: p.Heads, KVHeads: p.KVHeads, RopeDim: p.RopeDim,
		Eps: p.NormEps, RopeBase: p.RopeBase, RopeScale: p.RopeFreqScale()},
		TokEmbd: mat("token_embd.weight"), OutNorm: mat("output_norm.weight")[0]}
	m.Output = m.TokEmbd
	if !p.TiedOutput {
		m.Output = mat("output.weight")
	}
	if _, ok := f.Tensor("rope_freqs.weight"); ok {
		m.RopeFreqs = mat("rope_freqs.weight")[0]
	}
	for l := range p.Layers {
		w := func(s string) [][]float64 { return mat("blk." + strconv.Itoa(l) + "." + s + ".weight") }
		m.Layers = append(m.Layers, Layer{AttnNorm: w("attn_norm")[0], FFNNorm: w("ffn_norm")[0],
			Q: w("attn_q"), K: w("attn_k"), V: w("attn_v"), O: w("attn_output"),
			Gate: w("ffn_gate"), Up: w("ffn_up"), Down: w("ffn_down")})
	}
	return m
}

// Rows dequantizes w to float64, a row per output feature.
func Rows(w *kernels.Matrix) [][]float64 {
	out := make([][]float64, w.Rows)
	row := make([]float32, w.Cols)
	for r := range out {
		w.DequantRow(r, row)
		out[r] = Vec(row)
	}
	return out
}

// Vec is v in float64.
func Vec(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// Logits returns the logits at every position of toks, fed from position 0.
func (m *Model) Logits(toks []transport.Token) [][]float64 {
	n, hd := len(toks), m.Embd/m.Heads
	group := m.Heads / m.KVHeads
	xs := make([][]float64, n)
	for t, tok := range toks {
		xs[t] = append([]float64(nil), m.TokEmbd[tok]...)
	}
	for _, L := range m.Layers {
		qs, ks, vs := make([][]float64, n), make([][]float64, n), make([][]float64, n)
		for t := range xs {
			h := RMSNorm(xs[t], L.AttnNorm, m.Eps)
			qs[t], ks[t], vs[t] = m.matVec(L.Q, h), m.matVec(L.K, h), m.matVec(L.V, h)
			m.rope(qs[t], t)
			m.rope(ks[t], t)
			if m.KVF16 {
				roundF16(ks[t])
				roundF16(vs[t])
			}
		}
		for t := range xs {
			att := make([]float64, m.Heads*hd)
			for h := range m.Heads {
				kv := h / group
				q := qs[t][h*hd : (h+1)*hd]
				sc := make([]float64, t+1)
				mx := math.Inf(-1)
				for j := range sc {
					d := 0.0
					for e := range hd {
						d += q[e] * ks[j][kv*hd+e]
					}
					sc[j] = d / math.Sqrt(float64(hd))
					mx = math.Max(mx, sc[j])
				}
				sum := 0.0
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range sc {
					for e := range hd {
						att[h*hd+e] += sc[j] / sum * vs[j][kv*hd+e]
					}
				}
			}
			o := m.matVec(L.O, att)
			for i := range xs[t] {
				xs[t][i] += o[i]
			}
			h := RMSNorm(xs[t], L.FFNNorm, m.Eps)
			g, u := m.matVec(L.Gate, h), m.matVec(L.Up, h)
			for i := range g {
				g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
			}
			d := m.matVec(L.Down, g)
			for i := range xs[t] {
				xs[t][i] += d[i]
			}
		}
	}
	out := make([][]float64, n)
	for t := range xs {
		out[t] = m.matVec(m.Output, RMSNorm(xs[t], m.OutNorm, m.Eps))
	}
	return out
}

// Greedy returns the greedy continuation of n tokens after prompt (the
// first is the token predicted after the prompt).
func (m *Model) Greedy(prompt []transport.Token, n int) []transport.Token {
	seq := append([]transport.Token(nil), prompt...)
	var out []transport.Token
	for len(out) < n {
		all := m.Logits(seq)
		tok := transport.Token(Argmax(all[len(all)-1]))
		out = append(out, tok)
		seq = append(seq, tok)
	}
	return out
}

// Argmax is the index of the largest value, the lowest on a tie.
func Argmax(x []float64) int {
	best := 0
	for i := range x {
		if x[i] > x[best] {
			best = i
		}
	}
	return best
}

// matVec is w·x, with x rounded through q8_0 first under QuantAct.
func (m *Model) matVec(w [][]float64, x []float64) []float64 {
	if m.QuantAct {
		xf := make([]float32, len(x))
		for i, v := range x {
			xf[i] = float32(v)
		}
		q := make([]byte, len(x)/kernels.QK8_0*kernels.BlockQ8_0Bytes)
		kernels.QuantizeQ8_0(q, xf)
		kernels.DequantizeQ8_0(xf, q)
		x = Vec(xf)
	}
	y := make([]float64, len(w))
	for r, row := range w {
		s := 0.0
		for c, v := range row {
			s += v * x[c]
		}
		y[r] = s
	}
	return y
}

// RMSNorm is x / sqrt(mean(x²) + eps), scaled by w element-wise.
func RMSNorm(x, w []float64, eps float64) []float64 {
	ss := 0.0
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

// rope rotates the pairs (2i, 2i+1), i < RopeDim/2, of each head of v (a
// query's or a key's heads) at position pos by
// pos * RopeScale * RopeBase^(-2i/RopeDim) / RopeFreqs[i].
func (m *Model) rope(v []float64, pos int) {
	hd := m.Embd / m.Heads
	for h := range len(v) / hd {
		for i := range m.RopeDim / 2 {
			theta := float64(pos) * m.RopeScale * math.Pow(m.RopeBase, -2*float64(i)/float64(m.RopeDim))
			if m.RopeFreqs != nil {
				theta /= m.RopeFreqs[i]
			}
			c, s := math.Cos(theta), math.Sin(theta)
			a, b := v[h*hd+2*i], v[h*hd+2*i+1]
			v[h*hd+2*i], v[h*hd+2*i+1] = a*c-b*s, a*s+b*c
		}
	}
}

// roundF16 rounds every value to half precision (through float32, as a
// cache stores it).
func roundF16(v []float64) {
	for i, x := range v {
		v[i] = float64(kernels.F16ToF32(kernels.F32ToF16(float32(x))))
	}
}
