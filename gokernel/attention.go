package gokernel

import (
	"math"

	"github.com/fakbench/fakbench/gokernel/kernels"
)

// Causal grouped-query attention.
//
// A work item is (token t, KV head g, key span): the G = Heads/KVHeads
// query heads that share KV head g attend together, so every block of
// attnBlock cached keys and values is loaded once for the whole group (the
// scores of the G queries come from one kernels.ScoresF32 call) instead of
// once per query head. Keys are taken a block at a time with an online
// softmax (a running max and sum per head, the output rescaled when the max
// grows), so no score row longer than a block exists.
//
// A prefill step has tokens x KVHeads items, plenty for every thread. A
// decode step has KVHeads items per token, fewer than the threads can share
// evenly (3 items on 2 threads leaves one thread idle a third of the time),
// so each token's keys are then split into spans: every span produces its
// own running max, sum and unnormalised output, and combineSpans merges them
// afterwards (the flash-decoding split).

// spanAcc is the size of one head's accumulator: HeadDim output values, the
// running max and the running sum; an item holds G of them.
func spanAcc(hp HParams) int { return (hp.Heads / hp.KVHeads) * (hp.HeadDim + 2) }

// laneScratch is the scratch one attention lane needs: a block of scores per
// query head of a group and the group's accumulators.
func laneScratch(hp HParams) int {
	return (hp.Heads/hp.KVHeads)*attnBlock + spanAcc(hp)
}

// maxSpanItems bounds the items of a step whose keys are split (and so the
// partial results kept): splitting is used only while tokens x KVHeads is
// below targetItems, and then stops at about targetItems items.
func maxSpanItems(threads int) int { return 2 * targetItems(threads) }

// targetItems is how many work items keep threads threads evenly busy.
func targetItems(threads int) int { return 4 * threads }

// attention computes the attention output of the n tokens of the step
// (positions from pos0, or the batch's own positions) for layer l into
// s.att, reading the layer's K/V cache, whose rows for these tokens have
// already been written.
func (s *state) attention(l, pos0, n int) {
	hp, pool := s.m.HP, s.m.pool
	maxKeys := 0
	for t := 0; t < n; t++ {
		maxKeys = max(maxKeys, s.tokenPos(pos0, t)+1)
	}
	groups := n * hp.KVHeads
	spans := 1
	threads := pool.Threads()
	if threads > 1 && groups < targetItems(threads) {
		spans = (targetItems(threads) + groups - 1) / groups
		// A multiple of the threads, so the round-robin deal is even.
		for (groups*spans)%threads != 0 {
			spans++
		}
		spans = min(spans, maxSpanItems(threads)/groups, (maxKeys+attnBlock-1)/attnBlock)
		spans = max(spans, 1)
	}
	s.attLayer, s.attPos0, s.attTok = l, pos0, n
	s.attSpans, s.attItems = spans, groups*spans
	s.attLanes = min(threads, s.attItems)
	pool.For(s.attLanes, s.attnFn)
	if spans > 1 {
		s.combineSpans()
	}
}

// attnKV is the layer-l key and value cache token t of the step attends
// over: the session's, or in a batched decode step its own sequence's.
func (s *state) attnKV(l, t int) (kc, vc []byte) {
	if ms := s.multi; ms != nil {
		return ms.kCache[t][l], ms.vCache[t][l]
	}
	return s.kCache[l], s.vCache[l]
}

// attnRange runs the attention lanes [lo, hi): lane k takes the items k,
// k+attLanes, k+2*attLanes, ..., so with spans every lane gets parts of
// every group, and in a prefill every lane gets early (short) and late
// (long) causal rows alike.
func (s *state) attnRange(lo, hi int) {
	hp := s.m.HP
	G, hd, qd := hp.Heads/hp.KVHeads, hp.HeadDim, hp.QDim()
	ls, acc := laneScratch(hp), spanAcc(hp)
	scale := float32(1 / math.Sqrt(float64(hd)))
	for lane := lo; lane < hi; lane++ {
		scratch := s.scores[lane*ls : (lane+1)*ls]
		scores, own := scratch[:G*attnBlock], scratch[G*attnBlock:]
		for i := lane; i < s.attItems; i += s.attLanes {
			t, g, sp := s.attItem(i)
			nkeys := s.tokenPos(s.attPos0, t) + 1
			blocks := (nkeys + attnBlock - 1) / attnBlock
			j0 := sp * blocks / s.attSpans * attnBlock
			j1 := min((sp+1)*blocks/s.attSpans*attnBlock, nkeys)
			kc, vc := s.attnKV(s.attLayer, t)
			q := s.q[t*qd+g*G*hd : t*qd+(g+1)*G*hd]
			a := own
			if s.attSpans > 1 {
				a = s.part[i*acc : (i+1)*acc]
			}
			attendSpan(a, q, G, hd, headRows(kc, g, hp), headRows(vc, g, hp), j0, j1, scale, scores)
			if s.attSpans == 1 {
				w := hd + 2
				for h := 0; h < G; h++ {
					out := s.att[t*qd+(g*G+h)*hd : t*qd+(g*G+h+1)*hd]
					ah := a[h*w : (h+1)*w]
					inv := 1 / ah[hd+1]
					for d := range out {
						out[d] = ah[d] * inv
					}
				}
			}
		}
	}
}

// attItem is work item i of the step: token t, KV head g, key span sp.
// Without spans the items are taken KV head by KV head (item g*tokens+t),
// so a lane works through one head's keys and values (a few hundred KiB
// at a 1k context, L2-sized) before the next head's; with spans, item
// (t*KVHeads+g)*spans+sp, the order combineSpans reads the partials in.
func (s *state) attItem(i int) (t, g, sp int) {
	if s.attSpans == 1 {
		return i % s.attTok, i / s.attTok, 0
	}
	gi := i / s.attSpans
	return gi / s.m.HP.KVHeads, gi % s.m.HP.KVHeads, i % s.attSpans
}

// attendSpan attends the G query heads q (G rows of hd) over the keys
// [j0, j1) of one KV head (j0 a multiple of attnBlock; kc the head's f16
// keys in transposed blocks, storeKV; vc its f16 value rows, row j at
// value j*hd) and leaves, for
// every head h, the unnormalised output, the running max and the running
// sum in acc[h*(hd+2):]. An empty span leaves max -Inf and sum 0.
func attendSpan(acc, q []float32, G, hd int, kc, vc []byte, j0, j1 int, scale float32, scores []float32) {
	w := hd + 2
	for h := 0; h < G; h++ {
		a := acc[h*w : (h+1)*w]
		clear(a[:hd])
		a[hd], a[hd+1] = float32(math.Inf(-1)), 0
	}
	for b0 := j0; b0 < j1; b0 += attnBlock {
		// b0 is a multiple of attnBlock: the start of a key block.
		nk := min(attnBlock, j1-b0)
		sc := scores[:G*attnBlock]
		kernels.ScoresF16T(sc, q, hd, G, kc[2*b0*hd:2*(b0+attnBlock)*hd], hd)
		for h := 0; h < G; h++ {
			a := acc[h*w : (h+1)*w]
			out, row := a[:hd], sc[h*attnBlock:h*attnBlock+nk]
			blockMax := kernels.ScaleMaxF32s(row, scale)
			runMax, sum := a[hd], a[hd+1]
			if blockMax > runMax {
				// Rescale what was accumulated under the old max.
				if sum != 0 {
					r := expF32(runMax - blockMax)
					sum *= r
					for d := range out {
						out[d] *= r
					}
				}
				runMax = blockMax
			}
			sum += kernels.ExpShiftSumF32s(row, runMax)
			a[hd], a[hd+1] = runMax, sum
		}
		// out_h += the block's softmax weights of head h times its values,
		// the G heads together (each value row widened once).
		kernels.AxpyRowsF16Heads(acc, w, hd, sc, attnBlock, G, vc[2*b0*hd:], hd, nk)
	}
}

// combineSpans merges the spans' partial results of every (token, query
// head) into s.att: with M the largest span max, the output is
// sum_s e^(m_s-M) out_s / sum_s e^(m_s-M) sum_s.
func (s *state) combineSpans() {
	hp := s.m.HP
	G, hd, qd := hp.Heads/hp.KVHeads, hp.HeadDim, hp.QDim()
	w, acc := hd+2, spanAcc(hp)
	for gi := 0; gi < s.attTok*hp.KVHeads; gi++ {
		t, g := gi/hp.KVHeads, gi%hp.KVHeads
		items := s.part[gi*s.attSpans*acc : (gi+1)*s.attSpans*acc]
		for h := 0; h < G; h++ {
			out := s.att[t*qd+(g*G+h)*hd : t*qd+(g*G+h+1)*hd]
			m := float32(math.Inf(-1))
			for sp := 0; sp < s.attSpans; sp++ {
				if a := items[sp*acc+h*w:]; a[hd+1] > 0 {
					m = max(m, a[hd])
				}
			}
			clear(out)
			var den float32
			for sp := 0; sp < s.attSpans; sp++ {
				a := items[sp*acc+h*w : sp*acc+(h+1)*w]
				if a[hd+1] <= 0 {
					continue
				}
				f := expF32(a[hd] - m)
				den += f * a[hd+1]
				kernels.Axpy(out, f, a[:hd])
			}
			inv := 1 / den
			for d := range out {
				out[d] *= inv
			}
		}
	}
}
