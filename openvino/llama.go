package openvino

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/transport"
)

// WriterVersion changes whenever the IR this package writes changes, so a
// cached IR from an older writer is never reused.
const WriterVersion = 1

// llamaSpec is the shape of a Llama-architecture model as its GGUF states it.
type llamaSpec struct {
	Name        string
	Embd        int
	Layers      int
	Heads       int
	KVHeads     int
	HeadDim     int
	FFN         int
	Vocab       int
	CtxTrain    int
	RopeBase    float64
	Eps         float64
	TiedOutput  bool
	WeightType  string // type of the attention/FFN matrices
	Params      int64
	WeightBytes int64 // bytes of all tensors as stored
	// KV is the form of the IR's KV cache (kvExplicit or kvStateful). It
	// is not read from the GGUF: Open sets it from the kv_cache option, and
	// through the spec hash it is part of the IR cache key.
	KV string
}

// The IR's KV cache forms (the kv_cache option).
const (
	// kvStateful keeps the cache in the plugin as variable state
	// (stateful_ir.go); the default.
	kvStateful = "stateful"
	// kvExplicit binds the cache as past_* inputs and returns the new
	// positions as present_* outputs, trimmed in Go (the first form, kept
	// as an ablation).
	kvExplicit = "explicit"
)

// form is the spec's KV form, kvExplicit when unset.
func (s llamaSpec) form() string {
	if s.KV == "" {
		return kvExplicit
	}
	return s.KV
}

// KVDim is the width of one position's keys (and values) in one layer.
func (s llamaSpec) KVDim() int { return s.KVHeads * s.HeadDim }

func badModel(path, format string, args ...any) error {
	return &transport.BadModelError{File: path, Reason: fmt.Sprintf(format, args...)}
}

// badGGUF returns an error of the GGUF reader as the bad-model error the
// backend contract asks for, with the same text.
func badGGUF(err error) error {
	if ge, ok := errors.AsType[*gguf.Error](err); ok {
		return &transport.BadModelError{File: ge.File, Reason: ge.Reason, Err: ge.Err}
	}
	return err
}

// paramsSpec reads the hyperparameters with gguf.ReadLlamaParams, which
// checks them, and every tensor's presence and shape, as for every
// backend, into a spec with the model's name and the type of its
// attention and FFN matrices (the sizes are left to the caller).
func paramsSpec(f *gguf.File) (llamaSpec, gguf.LlamaParams, error) {
	var s llamaSpec
	p, err := gguf.ReadLlamaParams(f)
	if err != nil {
		return s, p, badGGUF(err)
	}
	s.Name, _ = f.String("general.name")
	s.Embd, s.Layers, s.Heads, s.KVHeads, s.FFN, s.CtxTrain = p.Embd, p.Layers, p.Heads, p.KVHeads, p.FFN, p.CtxTrain
	s.RopeBase, s.Eps = p.RopeBase, p.NormEps
	s.Vocab, s.TiedOutput = p.Vocab, p.TiedOutput
	s.HeadDim = p.HeadDim()
	if t, ok := f.Tensor("blk.0.attn_q.weight"); ok {
		s.WeightType = t.Type.String()
	}
	return s, p, nil
}

// readSpec reads the spec (paramsSpec) and checks what the IR writer
// needs beyond that: heads as wide as embedding_length/head_count and
// supported tensor types.
func readSpec(f *gguf.File) (llamaSpec, error) {
	s, p, err := paramsSpec(f)
	if err != nil {
		return s, err
	}
	// value_length and rope.dimension_count equal key_length (checked).
	if p.KeyLength != s.HeadDim {
		return s, badModel(f.Path, "llama.attention.key_length = %d differs from embedding_length/head_count = %d; the openvino writer needs them equal", p.KeyLength, s.HeadDim)
	}
	names := []string{"token_embd.weight", "output_norm.weight"}
	if !s.TiedOutput {
		names = append(names, "output.weight")
	}
	for i := 0; i < s.Layers; i++ {
		for _, n := range []string{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"} {
			names = append(names, fmt.Sprintf("blk.%d.%s.weight", i, n))
		}
	}
	for _, name := range names {
		t, ok := f.Tensor(name)
		if !ok { // ReadLlamaParams has checked every one is there
			return s, badModel(f.Path, "tensor %s is missing", name)
		}
		if !supportedType(t.Type, len(t.Dims)) {
			// The file is fine; this backend cannot run it: a skipped row
			// that names the type, not a bad-model failure of the run.
			return s, &transport.UnavailableError{Backend: "openvino", Reason: fmt.Sprintf(
				"%s: tensor %s has type %s; the openvino writer handles f32, f16, q8_0, q4_0 and q4_1 (norms in f32 or f16)",
				f.Path, name, t.Type)}
		}
		s.Params += t.Elements()
		s.WeightBytes += t.Size
	}
	return s, nil
}

func supportedType(t gguf.TensorType, rank int) bool {
	switch t {
	case gguf.TypeF32, gguf.TypeF16:
		return true
	case gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1:
		return rank == 2
	}
	return false
}

// irBuilder turns GGUF tensors into IR constants.
type irBuilder struct {
	g    *irGraph
	f    *gguf.File
	spec llamaSpec
}

// matrix returns the GGUF matrix name (ne0 = cols, ne1 = rows) as an f32
// value of shape [rows, cols]. q8_0 stays compressed: an i8 constant
// [rows, cols/32, 32] and f16 scales [rows, cols/32, 1] multiplied after
// conversion, which the CPU plugin keeps as compressed weights.
func (b *irBuilder) matrix(name string) (value, error) { return b.matrixRows(name, nil) }

// matrixRows is matrix with the rows reordered: row i of the value is row
// perm[i] of the tensor (nil keeps the order). Rows are whole blocks in
// every supported type, so the reordering moves bytes only.
func (b *irBuilder) matrixRows(name string, perm []int) (value, error) {
	t, _ := b.f.Tensor(name)
	data, err := b.f.TensorData(name)
	if err != nil {
		return value{}, badModel(b.f.Path, "tensor %s: %v", name, err)
	}
	rows, cols := int64(t.Dims[1]), int64(t.Dims[0])
	if perm != nil {
		if int64(len(perm)) != rows || len(data)%len(perm) != 0 {
			return value{}, badModel(b.f.Path, "tensor %s: %d rows (%d bytes) cannot take a row order of %d", name, rows, len(data), len(perm))
		}
		rb := len(data) / len(perm)
		moved := make([]byte, len(data))
		for i, src := range perm {
			copy(moved[i*rb:(i+1)*rb], data[src*rb:(src+1)*rb])
		}
		data = moved
	}
	switch t.Type {
	case gguf.TypeF32:
		return b.g.constant(tF32, []int64{rows, cols}, data), nil
	case gguf.TypeF16:
		return b.g.convert(b.g.constant(tF16, []int64{rows, cols}, data), tF32), nil
	case gguf.TypeQ8_0:
		if cols%32 != 0 {
			return value{}, badModel(b.f.Path, "tensor %s: q8_0 row length %d is not a multiple of 32", name, cols)
		}
		nb := rows * cols / 32
		if int64(len(data)) != nb*34 {
			return value{}, badModel(b.f.Path, "tensor %s: %d bytes of q8_0 data, want %d", name, len(data), nb*34)
		}
		qs := make([]byte, nb*32)
		sc := make([]byte, nb*2)
		for i := int64(0); i < nb; i++ {
			blk := data[i*34 : i*34+34]
			copy(sc[i*2:], blk[:2])
			copy(qs[i*32:], blk[2:])
		}
		q := b.g.convert(b.g.constant(tI8, []int64{rows, cols / 32, 32}, qs), tF32)
		d := b.g.convert(b.g.constant(tF16, []int64{rows, cols / 32, 1}, sc), tF32)
		return b.g.reshape(b.g.mul(q, d), rows, cols), nil
	case gguf.TypeQ4_0, gguf.TypeQ4_1:
		return b.q4(name, t.Type, data, rows, cols)
	}
	return value{}, badModel(b.f.Path, "tensor %s: unsupported type %s", name, t.Type)
}

// q4 keeps q4_0 / q4_1 compressed: the 4-bit codes as a u4 constant
// [rows, cols/32, 32] (repacked from ggml's order, where byte j holds
// elements j and j+16, to OpenVINO's, where byte k holds elements 2k in its
// low and 2k+1 in its high nibble) and per-block f16 scales. q4_0 decodes
// as (q - 8) * d; q4_1 as q*d + m, written as (q - zp) * d with the f32
// zero point zp = -m/d so the CPU plugin sees its compressed-weight
// pattern; a q4_1 tensor with a zero scale but a non-zero minimum in some
// block keeps the literal q*d + m form.
func (b *irBuilder) q4(name string, typ gguf.TensorType, data []byte, rows, cols int64) (value, error) {
	bs := int64(18)
	if typ == gguf.TypeQ4_1 {
		bs = 20
	}
	if cols%32 != 0 {
		return value{}, badModel(b.f.Path, "tensor %s: %s row length %d is not a multiple of 32", name, typ, cols)
	}
	nb := rows * cols / 32
	if int64(len(data)) != nb*bs {
		return value{}, badModel(b.f.Path, "tensor %s: %d bytes of %s data, want %d", name, len(data), typ, nb*bs)
	}
	codes := make([]byte, nb*16)
	scales := make([]byte, nb*2)
	var mins []float32
	literal := false
	if typ == gguf.TypeQ4_1 {
		mins = make([]float32, nb)
	}
	var v [32]byte
	for i := int64(0); i < nb; i++ {
		blk := data[i*bs : (i+1)*bs]
		copy(scales[i*2:], blk[:2])
		qs := blk[bs-16:]
		if typ == gguf.TypeQ4_1 {
			mins[i] = f16bits(binary.LittleEndian.Uint16(blk[2:]))
			if f16bits(binary.LittleEndian.Uint16(blk[:2])) == 0 && mins[i] != 0 {
				literal = true
			}
		}
		for j := 0; j < 16; j++ {
			v[j] = qs[j] & 0x0f
			v[j+16] = qs[j] >> 4
		}
		out := codes[i*16 : i*16+16]
		for k := 0; k < 16; k++ {
			out[k] = v[2*k] | v[2*k+1]<<4
		}
	}
	g := b.g
	q := g.convert(g.constant(tU4, []int64{rows, cols / 32, 32}, codes), tF32)
	d := g.convert(g.constant(tF16, []int64{rows, cols / 32, 1}, scales), tF32)
	var w value
	switch {
	case typ == gguf.TypeQ4_0:
		w = g.mul(g.sub(q, g.scalarF32(8)), d)
	case literal:
		w = g.add2(g.mul(q, d), g.constF32([]int64{rows, cols / 32, 1}, mins))
	default:
		zp := make([]float32, nb)
		for i := range zp {
			dv := f16bits(binary.LittleEndian.Uint16(scales[i*2:]))
			if dv != 0 {
				zp[i] = -mins[i] / dv
			}
		}
		w = g.mul(g.sub(q, g.constF32([]int64{rows, cols / 32, 1}, zp)), d)
	}
	return g.reshape(w, rows, cols), nil
}

// f16bits converts an IEEE half to float32.
func f16bits(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp-15+127)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: normalise.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// vector returns a 1-D norm weight as f32.
func (b *irBuilder) vector(name string) (value, error) {
	t, _ := b.f.Tensor(name)
	data, err := b.f.TensorData(name)
	if err != nil {
		return value{}, badModel(b.f.Path, "tensor %s: %v", name, err)
	}
	n := int64(t.Dims[0])
	switch t.Type {
	case gguf.TypeF32:
		return b.g.constant(tF32, []int64{n}, data), nil
	case gguf.TypeF16:
		return b.g.convert(b.g.constant(tF16, []int64{n}, data), tF32), nil
	}
	return value{}, badModel(b.f.Path, "tensor %s: norm weights must be f32 or f16, not %s", name, t.Type)
}

// rmsNorm is x / sqrt(mean(x^2) + eps) * w over the last axis.
func (b *irBuilder) rmsNorm(x, w value) value {
	g := b.g
	sq := g.mul(x, x)
	mean := g.op("ReduceMean", "opset1", []irAttr{{"keep_dims", "true"}}, sq, g.constI64(-1))
	den := g.op("Sqrt", "opset1", nil, g.add2(mean, g.scalarF32(float32(b.spec.Eps))))
	return g.mul(g.div(x, den), w)
}

// rope rotates adjacent pairs (2i, 2i+1) of every head of x [T, n*hd] by
// the angles in cos/sin [T, 1, hd/2] (llama.cpp's rope mode 0).
func (b *irBuilder) rope(x value, n int, cos, sin value) value {
	g := b.g
	hd := int64(b.spec.HeadDim)
	r := g.reshape(x, -1, int64(n), hd/2, 2)
	x0 := g.gather(r, g.scalarI64(0), 3)
	x1 := g.gather(r, g.scalarI64(1), 3)
	o0 := g.sub(g.mul(x0, cos), g.mul(x1, sin))
	o1 := g.add2(g.mul(x0, sin), g.mul(x1, cos))
	return g.reshape(g.concat(3, g.unsqueeze(o0, 3), g.unsqueeze(o1, 3)), -1, int64(n)*hd)
}

// ropeTables returns cos and sin of pos*base^(-2i/hd) for pos < n, i < hd/2.
func ropeTables(n, hd int, base float64) (cos, sin []float32) {
	half := hd / 2
	cos = make([]float32, n*half)
	sin = make([]float32, n*half)
	for i := 0; i < half; i++ {
		inv := math.Pow(base, -2*float64(i)/float64(hd))
		for p := 0; p < n; p++ {
			th := float64(p) * inv
			cos[p*half+i] = float32(math.Cos(th))
			sin[p*half+i] = float32(math.Sin(th))
		}
	}
	return cos, sin
}

// Model inputs and outputs, in order. Input 0 is the token ids [T] (i64),
// input 1 their positions [T] (i64), then for each layer i the cached keys
// past_key.i and values past_value.i [P, kv_dim] (f32, positions 0..P-1).
// Output 0 is the logits of the last position [1, vocab], then for each
// layer the new keys present_key.i and values present_value.i [T, kv_dim]
// that the caller appends to its cache.
const (
	inIDs       = 0
	inPositions = 1
	inFirstKV   = 2
	outLogits   = 0
	outFirstKV  = 1
)

// writeLlamaIR writes the decoder of f to xmlW and binW, with rotary tables
// for ctx positions, in the KV form spec.KV names.
func writeLlamaIR(f *gguf.File, spec llamaSpec, ctx int, xmlW, binW io.Writer) error {
	if spec.form() == kvStateful {
		return writeLlamaStatefulIR(f, spec, ctx, xmlW, binW)
	}
	g := newGraph(fmt.Sprintf("fakbench-llama-w%d", WriterVersion), binW)
	b := &irBuilder{g: g, f: f, spec: spec}
	hd, kvd := int64(spec.HeadDim), int64(spec.KVDim())
	nh, nkv := int64(spec.Heads), int64(spec.KVHeads)
	grp := nh / nkv

	ids := g.param("input_ids", tI64, "?")
	pos := g.param("positions", tI64, "?")
	past := make([][2]value, spec.Layers)
	for i := range past {
		past[i][0] = g.param(fmt.Sprintf("past_key.%d", i), tF32, fmt.Sprintf("?,%d", kvd))
		past[i][1] = g.param(fmt.Sprintf("past_value.%d", i), tF32, fmt.Sprintf("?,%d", kvd))
	}

	emb, err := b.matrix("token_embd.weight")
	if err != nil {
		return err
	}
	x := g.gather(emb, ids, 0)

	cosT, sinT := ropeTables(ctx, spec.HeadDim, spec.RopeBase)
	cosC := g.constF32([]int64{int64(ctx), hd / 2}, cosT)
	sinC := g.constF32([]int64{int64(ctx), hd / 2}, sinT)
	cos := g.unsqueeze(g.gather(cosC, pos, 0), 1) // [T, 1, hd/2]
	sin := g.unsqueeze(g.gather(sinC, pos, 0), 1)

	// Causal mask [T, S]: key j is visible from a query at position p when
	// j <= p. S = P + T; keys sit at positions 0..S-1.
	shapeP := g.op("ShapeOf", "opset3", []irAttr{{"output_type", "i64"}}, past[0][0])
	shapeT := g.op("ShapeOf", "opset3", []irAttr{{"output_type", "i64"}}, ids)
	total := g.add2(g.gather(shapeP, g.scalarI64(0), 0), g.gather(shapeT, g.scalarI64(0), 0))
	kpos := g.op("Range", "opset4", []irAttr{{"output_type", "i64"}}, g.scalarI64(0), total, g.scalarI64(1))
	hidden := g.op("Greater", "opset1", []irAttr{{"auto_broadcast", "numpy"}}, g.unsqueeze(kpos, 0), g.unsqueeze(pos, 1))
	mask := g.op("Select", "opset1", []irAttr{{"auto_broadcast", "numpy"}}, hidden,
		g.scalarF32(float32(math.Inf(-1))), g.scalarF32(0))
	scale := g.scalarF32(float32(1 / math.Sqrt(float64(spec.HeadDim))))

	presents := make([][2]value, spec.Layers)
	for i := 0; i < spec.Layers; i++ {
		w, err := b.layer(i, false)
		if err != nil {
			return err
		}
		h := b.rmsNorm(x, w.attnNorm)
		q := b.rope(g.matmul(h, w.m["attn_q"], true), spec.Heads, cos, sin)
		k := b.rope(g.matmul(h, w.m["attn_k"], true), spec.KVHeads, cos, sin)
		v := g.matmul(h, w.m["attn_v"], true)
		presents[i] = [2]value{k, v}

		kall := g.concat(0, past[i][0], k) // [S, kvd]
		vall := g.concat(0, past[i][1], v)
		kh := g.unsqueeze(g.transpose(g.reshape(kall, -1, nkv, hd), 1, 0, 2), 1) // [nkv, 1, S, hd]
		vh := g.unsqueeze(g.transpose(g.reshape(vall, -1, nkv, hd), 1, 0, 2), 1)
		// Query head h uses key head h / grp (as ggml broadcasts).
		qh := g.reshape(g.transpose(g.reshape(q, -1, nh, hd), 1, 0, 2), nkv, grp, -1, hd) // [nkv, grp, T, hd]
		scores := g.add2(g.mul(g.matmul(qh, kh, true), scale), mask)                      // [nkv, grp, T, S]
		probs := g.op("SoftMax", "opset8", []irAttr{{"axis", "-1"}}, scores)
		att := g.matmul(probs, vh, false)                                            // [nkv, grp, T, hd]
		att = g.reshape(g.transpose(g.reshape(att, nh, -1, hd), 1, 0, 2), -1, nh*hd) // [T, nh*hd]
		x = b.ffn(g.add2(x, g.matmul(att, w.m["attn_output"], true)), w)
	}
	logits, err := b.head(x, 0, emb)
	if err != nil {
		return err
	}
	g.result("logits", logits)
	for i, pr := range presents {
		g.result(fmt.Sprintf("present_key.%d", i), pr[0])
		g.result(fmt.Sprintf("present_value.%d", i), pr[1])
	}
	return g.finish(xmlW)
}

// layerWeights are one decoder layer's tensors as IR values: its
// matrices by name (attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up,
// ffn_down) and its two norms.
type layerWeights struct {
	m                 map[string]value
	attnNorm, ffnNorm value
}

// layer reads decoder layer i's weights, the matrices first, in the order
// of layerWeights. With neox, the rows of attn_q and attn_k are permuted
// per head for the rotate-half rotary form (neoxRows).
func (b *irBuilder) layer(i int, neox bool) (layerWeights, error) {
	p := fmt.Sprintf("blk.%d.", i)
	w := layerWeights{m: map[string]value{}}
	for _, n := range []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"} {
		var perm []int
		switch {
		case neox && n == "attn_q":
			perm = neoxRows(b.spec.Heads, b.spec.HeadDim)
		case neox && n == "attn_k":
			perm = neoxRows(b.spec.KVHeads, b.spec.HeadDim)
		}
		m, err := b.matrixRows(p+n+".weight", perm)
		if err != nil {
			return w, err
		}
		w.m[n] = m
	}
	var err error
	if w.attnNorm, err = b.vector(p + "attn_norm.weight"); err != nil {
		return w, err
	}
	w.ffnNorm, err = b.vector(p + "ffn_norm.weight")
	return w, err
}

// ffn adds layer w's feed-forward block to the residual stream x:
// x + ffn_down(swish(ffn_gate(h)) * ffn_up(h)), h the ffn_norm of x.
func (b *irBuilder) ffn(x value, w layerWeights) value {
	g := b.g
	h := b.rmsNorm(x, w.ffnNorm)
	gate := g.op("Swish", "opset4", nil, g.matmul(h, w.m["ffn_gate"], true))
	up := g.matmul(h, w.m["ffn_up"], true)
	return g.add2(x, g.matmul(g.mul(gate, up), w.m["ffn_down"], true))
}

// head is the output head on the last position along axis of the hidden
// state x: output_norm, then the product with output.weight, or with the
// token embedding emb when the file ties them.
func (b *irBuilder) head(x value, axis int64, emb value) (value, error) {
	g := b.g
	last := g.op("Slice", "opset8", nil, x, g.constI64(-1), g.constI64(math.MaxInt64), g.constI64(1), g.constI64(axis))
	on, err := b.vector("output_norm.weight")
	if err != nil {
		return value{}, err
	}
	outW := emb
	if !b.spec.TiedOutput {
		if outW, err = b.matrix("output.weight"); err != nil {
			return value{}, err
		}
	}
	return g.matmul(b.rmsNorm(last, on), outW, true), nil
}
