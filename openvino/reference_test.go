package openvino

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/transport"
)

// refModel is a float64 forward pass over an f32 GGUF written straight from
// the definitions (RMSNorm, rope on adjacent pairs, GQA with h/grp, causal
// softmax, SwiGLU). It is the independent check of the IR writer.
type refModel struct {
	spec llamaSpec
	w    map[string][]float64
}

func loadRef(t *testing.T, path string) *refModel {
	t.Helper()
	f, err := gguf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	spec, err := readSpec(f)
	require.NoError(t, err)
	m := &refModel{spec: spec, w: map[string][]float64{}}
	for _, ti := range f.Tensors {
		require.Equal(t, gguf.TypeF32, ti.Type, "reference needs f32 weights")
		data, err := f.TensorData(ti.Name)
		require.NoError(t, err)
		v := make([]float64, len(data)/4)
		for i := range v {
			v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
		}
		m.w[ti.Name] = v
	}
	return m
}

// matvec: W is [rows, cols] row-major.
func matvec(w []float64, x []float64, rows int) []float64 {
	cols := len(x)
	out := make([]float64, rows)
	for r := 0; r < rows; r++ {
		s := 0.0
		for c, xv := range x {
			s += w[r*cols+c] * xv
		}
		out[r] = s
	}
	return out
}

func rmsnorm(x, w []float64, eps float64) []float64 {
	ss := 0.0
	for _, v := range x {
		ss += v * v
	}
	sc := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] * sc * w[i]
	}
	return out
}

func (m *refModel) ropeRef(x []float64, heads, pos int) {
	hd := m.spec.HeadDim
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			th := float64(pos) * math.Pow(m.spec.RopeBase, -2*float64(i)/float64(hd))
			a, b := x[h*hd+2*i], x[h*hd+2*i+1]
			x[h*hd+2*i] = a*math.Cos(th) - b*math.Sin(th)
			x[h*hd+2*i+1] = a*math.Sin(th) + b*math.Cos(th)
		}
	}
}

// logits returns the logits after each token of toks, fed from position 0.
func (m *refModel) logits(toks []transport.Token) [][]float64 {
	s := m.spec
	hd, kvd, grp := s.HeadDim, s.KVDim(), s.Heads/s.KVHeads
	keys := make([][][]float64, s.Layers)
	vals := make([][][]float64, s.Layers)
	var all [][]float64
	for p, tok := range toks {
		x := append([]float64(nil), m.w["token_embd.weight"][int(tok)*s.Embd:(int(tok)+1)*s.Embd]...)
		for l := 0; l < s.Layers; l++ {
			pre := fmt.Sprintf("blk.%d.", l)
			h := rmsnorm(x, m.w[pre+"attn_norm.weight"], s.Eps)
			q := matvec(m.w[pre+"attn_q.weight"], h, s.Embd)
			k := matvec(m.w[pre+"attn_k.weight"], h, kvd)
			v := matvec(m.w[pre+"attn_v.weight"], h, kvd)
			m.ropeRef(q, s.Heads, p)
			m.ropeRef(k, s.KVHeads, p)
			keys[l] = append(keys[l], k)
			vals[l] = append(vals[l], v)
			att := make([]float64, s.Embd)
			for hh := 0; hh < s.Heads; hh++ {
				kh := hh / grp
				sc := make([]float64, p+1)
				mx := math.Inf(-1)
				for j := 0; j <= p; j++ {
					d := 0.0
					for e := 0; e < hd; e++ {
						d += q[hh*hd+e] * keys[l][j][kh*hd+e]
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
					for e := 0; e < hd; e++ {
						att[hh*hd+e] += sc[j] / sum * vals[l][j][kh*hd+e]
					}
				}
			}
			o := matvec(m.w[pre+"attn_output.weight"], att, s.Embd)
			for i := range x {
				x[i] += o[i]
			}
			h2 := rmsnorm(x, m.w[pre+"ffn_norm.weight"], s.Eps)
			g := matvec(m.w[pre+"ffn_gate.weight"], h2, s.FFN)
			u := matvec(m.w[pre+"ffn_up.weight"], h2, s.FFN)
			for i := range g {
				g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
			}
			d := matvec(m.w[pre+"ffn_down.weight"], g, s.Embd)
			for i := range x {
				x[i] += d[i]
			}
		}
		out := m.w["output.weight"]
		if s.TiedOutput {
			out = m.w["token_embd.weight"]
		}
		all = append(all, matvec(out, rmsnorm(x, m.w["output_norm.weight"], s.Eps), s.Vocab))
	}
	return all
}

// greedy returns the greedy continuation of n tokens after prompt (the
// first is the token predicted after the prompt).
func (m *refModel) greedy(prompt []transport.Token, n int) []transport.Token {
	seq := append([]transport.Token{}, prompt...)
	var out []transport.Token
	for len(out) < n {
		all := m.logits(seq)
		tok := argmax64(all[len(all)-1])
		out = append(out, tok)
		seq = append(seq, tok)
	}
	return out
}

func argmax64(x []float64) transport.Token {
	best := 0
	for i := range x {
		if x[i] > x[best] {
			best = i
		}
	}
	return transport.Token(best)
}

// maxRelDiff is max|a-b| / max|b| over the vector.
func maxRelDiff(a []float32, b []float64) float64 {
	num, den := 0.0, 0.0
	for i := range b {
		num = math.Max(num, math.Abs(float64(a[i])-b[i]))
		den = math.Max(den, math.Abs(b[i]))
	}
	return num / den
}
