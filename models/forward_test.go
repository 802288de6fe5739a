package models

import (
	"encoding/binary"
	"math"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
)

// refModel is a plain float64 Llama forward pass over a parsed GGUF,
// written here to measure the synthetic weights' logit margins without
// depending on the Go kernel.
type refModel struct {
	embd, heads, kvHeads, hd, layers, vocab int
	eps, base                               float64
	tokEmbd, output                         [][]float64
	outNorm                                 []float64
	blk                                     []refLayer
}

type refLayer struct {
	attnNorm, ffnNorm          []float64
	q, k, v, o, gate, up, down [][]float64
}

func loadRef(t testing.TB, f *gguf.File) *refModel {
	u := func(k string) int {
		v, err := f.Uint(k)
		require.NoError(t, err, k)
		return int(v)
	}
	fl := func(k string) float64 {
		v, err := f.Float(k)
		require.NoError(t, err, k)
		return v
	}
	m := &refModel{embd: u("llama.embedding_length"), heads: u("llama.attention.head_count"),
		kvHeads: u("llama.attention.head_count_kv"), layers: u("llama.block_count"), vocab: u("llama.vocab_size"),
		eps: fl("llama.attention.layer_norm_rms_epsilon"), base: fl("llama.rope.freq_base")}
	m.hd = m.embd / m.heads
	mat := func(name string) [][]float64 {
		info, ok := f.Tensor(name)
		require.True(t, ok, name)
		data, err := f.TensorData(name)
		require.NoError(t, err)
		cols := int(info.Dims[0])
		rows := 1
		if len(info.Dims) > 1 {
			rows = int(info.Dims[1])
		}
		rb, err := kernels.RowBytes(kernels.Type(info.Type), cols)
		require.NoError(t, err)
		out := make([][]float64, rows)
		tmp := make([]float32, cols)
		for r := range out {
			row := data[r*rb : (r+1)*rb]
			switch kernels.Type(info.Type) {
			case kernels.TypeF32:
				for i := range tmp {
					tmp[i] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:]))
				}
			case kernels.TypeF16:
				for i := range tmp {
					tmp[i] = kernels.F16ToF32(binary.LittleEndian.Uint16(row[2*i:]))
				}
			case kernels.TypeQ8_0:
				kernels.DequantizeQ8_0(tmp, row)
			}
			out[r] = make([]float64, cols)
			for i, x := range tmp {
				out[r][i] = float64(x)
			}
		}
		return out
	}
	m.tokEmbd, m.output, m.outNorm = mat("token_embd.weight"), mat("output.weight"), mat("output_norm.weight")[0]
	for l := 0; l < m.layers; l++ {
		n := func(s string) string { return "blk." + strconv.Itoa(l) + "." + s + ".weight" }
		m.blk = append(m.blk, refLayer{attnNorm: mat(n("attn_norm"))[0], ffnNorm: mat(n("ffn_norm"))[0],
			q: mat(n("attn_q")), k: mat(n("attn_k")), v: mat(n("attn_v")), o: mat(n("attn_output")),
			gate: mat(n("ffn_gate")), up: mat(n("ffn_up")), down: mat(n("ffn_down"))})
	}
	return m
}

func matVec(w [][]float64, x []float64) []float64 {
	out := make([]float64, len(w))
	for r, row := range w {
		s := 0.0
		for i, v := range row {
			s += v * x[i]
		}
		out[r] = s
	}
	return out
}

func rmsNorm(x, w []float64, eps float64) []float64 {
	ss := 0.0
	for _, v := range x {
		ss += v * v
	}
	s := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] * s * w[i]
	}
	return out
}

// rope rotates adjacent pairs (llama.cpp's normal mode, used for llama).
func (m *refModel) rope(x []float64, pos int) {
	for h := 0; h < len(x)/m.hd; h++ {
		for p := 0; p < m.hd/2; p++ {
			th := float64(pos) * math.Pow(m.base, -2*float64(p)/float64(m.hd))
			c, s := math.Cos(th), math.Sin(th)
			i := h*m.hd + 2*p
			a, b := x[i], x[i+1]
			x[i], x[i+1] = a*c-b*s, a*s+b*c
		}
	}
}

// forward returns the logits at every position of toks.
func (m *refModel) forward(toks []int) [][]float64 {
	T := len(toks)
	xs := make([][]float64, T)
	for i, t := range toks {
		xs[i] = append([]float64(nil), m.tokEmbd[t]...)
	}
	group := m.heads / m.kvHeads
	for _, L := range m.blk {
		ks, vs := make([][]float64, T), make([][]float64, T)
		qs := make([][]float64, T)
		for i := range xs {
			n := rmsNorm(xs[i], L.attnNorm, m.eps)
			qs[i], ks[i], vs[i] = matVec(L.q, n), matVec(L.k, n), matVec(L.v, n)
			m.rope(qs[i], i)
			m.rope(ks[i], i)
		}
		for i := range xs {
			att := make([]float64, m.heads*m.hd)
			for h := 0; h < m.heads; h++ {
				kv := h / group
				q := qs[i][h*m.hd : (h+1)*m.hd]
				sc := make([]float64, i+1)
				mx := math.Inf(-1)
				for j := 0; j <= i; j++ {
					s := 0.0
					for d := 0; d < m.hd; d++ {
						s += q[d] * ks[j][kv*m.hd+d]
					}
					sc[j] = s / math.Sqrt(float64(m.hd))
					mx = max(mx, sc[j])
				}
				sum := 0.0
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range sc {
					for d := 0; d < m.hd; d++ {
						att[h*m.hd+d] += sc[j] / sum * vs[j][kv*m.hd+d]
					}
				}
			}
			o := matVec(L.o, att)
			for d := range xs[i] {
				xs[i][d] += o[d]
			}
			n := rmsNorm(xs[i], L.ffnNorm, m.eps)
			g, u := matVec(L.gate, n), matVec(L.up, n)
			for d := range g {
				g[d] = g[d] / (1 + math.Exp(-g[d])) * u[d]
			}
			dn := matVec(L.down, g)
			for d := range xs[i] {
				xs[i][d] += dn[d]
			}
		}
	}
	out := make([][]float64, T)
	for i := range xs {
		out[i] = matVec(m.output, rmsNorm(xs[i], m.outNorm, m.eps))
	}
	return out
}

// top2 returns the argmax and the lead of the best logit over the runner-up.
func top2(l []float64) (int, float64) {
	best, second := 0, -1
	for i := 1; i < len(l); i++ {
		if l[i] > l[best] {
			best, second = i, best
		} else if second < 0 || l[i] > l[second] {
			second = i
		}
	}
	return best, l[best] - l[second]
}

// randomTokens draws n token ids (never control tokens) from a splitmix stream.
func randomTokens(seed uint64, n, vocab int) []int {
	r := rng{seed}
	out := make([]int, n)
	for i := range out {
		out[i] = firstByte + r.intn(vocab-firstByte)
	}
	return out
}

func quantile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[int(q*float64(len(s)-1))]
}
