package openvino

import (
	"fmt"
	"io"
	"math"

	"github.com/fakbench/fakbench/gguf"
)

// The stateful form of the IR (kv_cache=stateful): the KV cache lives
// inside the plugin as one variable per layer and per K and V, read by a
// ReadValue and written back by an Assign, the way OpenVINO's own LLM
// exports (optimum-intel, the GGUF frontend's GGUFMakeStateful) keep it.
// The graph is written so the CPU plugin's StatefulSDPAFusion recognises
// it: ReadValue -> Gather(beam_idx) -> Concat(past, new) along the token
// axis -> (GQA broadcast) -> ScaledDotProductAttention, with the Concat also
// feeding the Assign. The plugin then folds the cache into its fused
// attention node, which appends the new positions in place (no copy of the
// cache per step) and stores it in the KV_CACHE_PRECISION it chose.
//
// Inputs (the OpenVINO GenAI contract, so one engine drives this model and
// the GGUF frontend's):
//
//	input_ids      i64 [B, T]
//	attention_mask i64 [B, S]  S = positions held + T; 0 marks a padding slot
//	position_ids   i64 [B, T]  the rotary position of each new token
//	beam_idx       i32 [B]     which cached sequence each row continues (0..B-1)
//
// Output 0 is logits f32 [B, 1, vocab], of the last slot of each row only
// (the hidden state is sliced before the output head). The variables are
// past_key.<i> and past_value.<i>, f32 [B, S, kv_heads, head_dim] (the
// layout of the GGUF frontend's caches too): the token axis is
// statefulTokenAxis.
//
// Attention is over slots, not positions: key slot j is visible from the
// query in slot q when j <= q and attention_mask[b, j] is 1. A batch of
// prompts of different lengths is left-padded into one [B, T] block, so
// every row's last slot is its last token.

// statefulTokenAxis is the token axis of the stateful IR's variables.
const statefulTokenAxis = 1

// maskedScore is added to the attention score of a hidden slot. It is
// finite, unlike -inf, so a padding query whose every key is hidden gets a
// finite (unused) softmax instead of NaNs that its keys would carry into
// later queries; it is f16's lowest, which OpenVINO GenAI uses as well.
const maskedScore = -65504

// writeLlamaStatefulIR writes the stateful decoder of f to xmlW and binW,
// with rotary tables for ctx positions.
func writeLlamaStatefulIR(f *gguf.File, spec llamaSpec, ctx int, xmlW, binW io.Writer) error {
	g := newGraph(fmt.Sprintf("fakbench-llama-stateful-w%d", WriterVersion), binW)
	b := &irBuilder{g: g, f: f, spec: spec}
	hd := int64(spec.HeadDim)
	nh, nkv := int64(spec.Heads), int64(spec.KVHeads)
	grp := nh / nkv

	ids := g.param("input_ids", tI64, "?,?")
	am := g.param("attention_mask", tI64, "?,?")
	pos := g.param("position_ids", tI64, "?,?")
	beam := g.param("beam_idx", tI32, "?")

	emb, err := b.matrix("token_embd.weight")
	if err != nil {
		return err
	}
	x := g.gather(emb, ids, 0) // [B, T, embd]

	// Rotary tables [ctx, hd] for the rotate-half form: entry i and
	// i + hd/2 both hold pair i's angle (neoxTables).
	cosT, sinT := neoxTables(ctx, spec.HeadDim, spec.RopeBase)
	cosC := g.constF32([]int64{int64(ctx), hd}, cosT)
	sinC := g.constF32([]int64{int64(ctx), hd}, sinT)
	cos := g.unsqueeze(g.gather(cosC, pos, 0), 2) // [B, T, 1, hd]
	sin := g.unsqueeze(g.gather(sinC, pos, 0), 2)

	// The mask [B, 1, T, S]: slots 0..S-1, the new tokens in S-T..S-1.
	shapeOf := func(v value) value { return g.op("ShapeOf", "opset3", []irAttr{{"output_type", "i64"}}, v) }
	slots := g.gather(shapeOf(am), g.scalarI64(1), 0)
	newT := g.gather(shapeOf(ids), g.scalarI64(1), 0)
	rng := func(from, to value) value {
		return g.op("Range", "opset4", []irAttr{{"output_type", "i64"}}, from, to, g.scalarI64(1))
	}
	kslot := rng(g.scalarI64(0), slots)
	qslot := rng(g.sub(slots, newT), slots)
	later := g.op("Greater", "opset1", []irAttr{{"auto_broadcast", "numpy"}}, g.unsqueeze(kslot, 0), g.unsqueeze(qslot, 1)) // [T, S]
	pad := g.op("Equal", "opset1", []irAttr{{"auto_broadcast", "numpy"}}, am, g.scalarI64(0))                               // [B, S]
	pad = g.unsqueeze(g.unsqueeze(pad, 1), 1)                                                                               // [B, 1, 1, S]
	hidden := g.op("LogicalOr", "opset1", []irAttr{{"auto_broadcast", "numpy"}}, later, pad)                                // [B, 1, T, S]
	mask := g.op("Select", "opset1", []irAttr{{"auto_broadcast", "numpy"}}, hidden, g.scalarF32(maskedScore), g.scalarF32(0))
	scale := g.scalarF32(float32(1 / math.Sqrt(float64(spec.HeadDim))))

	// split turns [B, T, n*hd] into [B, T, n, hd]; heads turns [B, T, n,
	// hd] into the [B, n, T, hd] attention takes (a Transpose the plugin
	// folds into its attention node).
	split := func(v value, n int64) value { return g.reshapeZ(v, 0, 0, n, hd) }
	heads := func(v value) value { return g.transpose(v, 0, 2, 1, 3) }
	// A new request's cache: [B, 0, nkv, hd], B taken from input_ids (a
	// constant of batch 1 crashed the plugin's fused attention at B > 1).
	batchDim := g.op("Slice", "opset8", nil, shapeOf(ids), g.constI64(0), g.constI64(1), g.constI64(1), g.constI64(0))
	emptyShape := g.concat(0, batchDim, g.constI64(0, nkv, hd))
	// cache appends this call's keys or values [B, T, nkv, hd] to the
	// variable id and returns all of them [B, S, nkv, hd].
	cache := func(id string, cur value) value {
		init := g.op("Broadcast", "opset3", []irAttr{{"mode", "numpy"}}, g.scalarF32(0), emptyShape)
		past := g.readValue(id, tF32, fmt.Sprintf("?,?,%d,%d", nkv, hd), init)
		all := g.concat(statefulTokenAxis, g.gather(past, beam, 0), cur)
		g.assign(id, all)
		return all
	}
	// expand repeats each KV head for its group of query heads, [B, S,
	// nkv, hd] -> [B, S, nh, hd], head h reading KV head h / grp as ggml
	// broadcasts (the Unsqueeze/Broadcast/Reshape form the plugin's fusion
	// knows).
	expand := func(v value) value {
		if grp == 1 {
			return v
		}
		bc := g.op("Broadcast", "opset3", []irAttr{{"mode", "bidirectional"}}, g.unsqueeze(v, 3), g.constI64(1, 1, 1, grp, 1))
		return g.reshapeZ(bc, 0, 0, nh, hd)
	}

	for i := 0; i < spec.Layers; i++ {
		w, err := b.layer(i, true)
		if err != nil {
			return err
		}
		h := b.rmsNorm(x, w.attnNorm)
		q := b.ropeHalf(split(g.matmul(h, w.m["attn_q"], true), nh), cos, sin)
		k := b.ropeHalf(split(g.matmul(h, w.m["attn_k"], true), nkv), cos, sin)
		v := split(g.matmul(h, w.m["attn_v"], true), nkv)
		kall := cache(fmt.Sprintf("past_key.%d", i), k)
		vall := cache(fmt.Sprintf("past_value.%d", i), v)
		att := g.op("ScaledDotProductAttention", "opset13", []irAttr{{"causal", "false"}},
			heads(q), heads(expand(kall)), heads(expand(vall)), mask, scale) // [B, nh, T, hd]
		att = g.reshapeZ(g.transpose(att, 0, 2, 1, 3), 0, 0, nh*hd)
		x = b.ffn(g.add2(x, g.matmul(att, w.m["attn_output"], true)), w)
	}
	// The logits of the last slot of each row: [B, 1, vocab].
	logits, err := b.head(x, 1, emb)
	if err != nil {
		return err
	}
	g.result("logits", logits)
	return g.finish(xmlW)
}

// The stateful IR applies the rotary embedding in its rotate-half
// ("GPT-NeoX") form, x*cos + [-x2, x1]*sin over the two halves x1, x2 of
// each head, which the CPU plugin fuses into one RoPE node per use (the
// pairwise form of the explicit IR stays a dozen small nodes). llama.cpp's
// rope for llama rotates adjacent pairs (2i, 2i+1); permuting each head's
// rows of attn_q and attn_k so that pair i lands on (i, i + hd/2)
// (neoxRows) makes the two forms compute the same rotation. Scores are
// dot products over a head's dimensions, which the common permutation of
// queries and keys leaves unchanged; values and outputs are not permuted.

// neoxRows is the row order of a [heads*hd, embd] projection that moves
// each head's adjacent pairs (2i, 2i+1) to (i, i + hd/2): new row h*hd + j
// is old row h*hd + 2j for j < hd/2, and h*hd + 2(j - hd/2) + 1 after.
func neoxRows(heads, hd int) []int {
	perm := make([]int, heads*hd)
	half := hd / 2
	for h := 0; h < heads; h++ {
		for j := 0; j < hd; j++ {
			src := 2 * j
			if j >= half {
				src = 2*(j-half) + 1
			}
			perm[h*hd+j] = h*hd + src
		}
	}
	return perm
}

// neoxTables returns cos and sin [n, hd] of pos*base^(-2i/hd), entry i and
// i + hd/2 both holding pair i's angle.
func neoxTables(n, hd int, base float64) (cos, sin []float32) {
	half := hd / 2
	c, s := ropeTables(n, hd, base) // [n, hd/2]
	cos = make([]float32, n*hd)
	sin = make([]float32, n*hd)
	for p := 0; p < n; p++ {
		for i := 0; i < half; i++ {
			cos[p*hd+i], cos[p*hd+half+i] = c[p*half+i], c[p*half+i]
			sin[p*hd+i], sin[p*hd+half+i] = s[p*half+i], s[p*half+i]
		}
	}
	return cos, sin
}

// ropeHalf rotates x [B, T, n, hd] in the rotate-half form by cos/sin
// [B, T, 1, hd], written as the CPU plugin's RoPEFusionGPTNEOX pattern
// expects: VariadicSplit on axis 3, Multiply by -1, Concat on axis -1.
func (b *irBuilder) ropeHalf(x, cos, sin value) value {
	g := b.g
	half := int64(b.spec.HeadDim / 2)
	sp := g.add("VariadicSplit", "opset1", nil, 2, x, g.scalarI64(3), g.constI64(half, half))
	x1, x2 := out(sp, 0), out(sp, 1)
	rot := g.op("Concat", "opset1", []irAttr{{"axis", "-1"}}, g.mul(x2, g.scalarF32(-1)), x1)
	return g.add2(g.mul(x, cos), g.mul(rot, sin))
}
