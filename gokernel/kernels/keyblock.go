package kernels

import (
	"encoding/binary"
	"fmt"
)

// KeyBlock is the number of keys in one block of a transposed f16 key
// cache: a block holds, for each of the head's d dimensions in turn, that
// dimension of its 64 keys (key j's value x at f16 index x*KeyBlock+j). The
// score kernels then hold 16 keys per 512-bit register (8 per 256-bit one)
// and accumulate each key's dot product in its own lane, with no
// horizontal sums, and one conversion of a run of keys serves every query
// of a grouped-query group.
const KeyBlock = 64

// PutKeyT stores the d = len(k) values of key j (j < KeyBlock) into the
// transposed key block kt as f16 (round to nearest even, as F32ToF16s).
func PutKeyT(kt []byte, j int, k []float32) {
	if j < 0 || j >= KeyBlock {
		panic(fmt.Sprintf("kernels: PutKeyT: key %d of a block of %d", j, KeyBlock))
	}
	if len(k) > 0 {
		_ = kt[2*((len(k)-1)*KeyBlock+j)+1]
	}
	for x, v := range k {
		binary.LittleEndian.PutUint16(kt[2*(x*KeyBlock+j):], F32ToF16(v))
	}
}

// ScoresF16T computes out[i*KeyBlock+j] = q_i . k_j for every query i < nq
// (d values at q[i*ldq:]) and every key j < KeyBlock of the transposed f16
// key block kt. All 64 keys are computed; lanes of keys a cache has not
// filled yet hold whatever the block holds, and the caller ignores them.
// Each key's sum runs over x = 0..d-1 in order in every kernel of a set,
// whatever the number of queries, so a query's scores do not depend on the
// queries computed beside it. It panics, naming the sizes, when an operand
// is too short.
func ScoresF16T(out, q []float32, ldq, nq int, kt []byte, d int) {
	if nq <= 0 || d <= 0 {
		return
	}
	checkRows("ScoresF16T (queries)", len(q), nq, d, ldq)
	if len(kt) < 2*d*KeyBlock {
		panic(fmt.Sprintf("kernels: ScoresF16T: a key block of %d dimensions needs %d bytes, have %d", d, 2*d*KeyBlock, len(kt)))
	}
	if len(out) < nq*KeyBlock {
		panic(fmt.Sprintf("kernels: ScoresF16T: %d queries need %d scores, have %d", nq, nq*KeyBlock, len(out)))
	}
	ks := cur()
	i := 0
	for ; i+3 <= nq; i += 3 {
		ks.scoresT3(out[i*KeyBlock:], q[i*ldq:], ldq, kt, d)
	}
	for ; i < nq; i++ {
		ks.scoresT1(out[i*KeyBlock:], q[i*ldq:], kt, d)
	}
}

// AxpyRowsF16Heads is AxpyRowsF16 for nq heads at once: for every head
// h < nq, dst[h*ldd : h*ldd+n] += sum over j < rows of w[h*ldw+j] * x_j,
// with the f16 rows x_j at value j*stride. Three heads at a time share
// every converted row when n is 64 (the head size of the models here);
// each head's sum runs over the rows in the same order as AxpyRowsF16's.
// It panics, naming the sizes, when an operand is too short.
func AxpyRowsF16Heads(dst []float32, ldd, n int, w []float32, ldw, nq int, x []byte, stride, rows int) {
	if nq <= 0 || n <= 0 || rows <= 0 {
		return
	}
	checkRows("AxpyRowsF16Heads (out)", len(dst), nq, n, ldd)
	checkRows("AxpyRowsF16Heads (weights)", len(w), nq, rows, ldw)
	checkRows("AxpyRowsF16Heads (rows)", len(x)/2, rows, n, stride)
	ks := cur()
	h := 0
	if n == KeyBlock && ks.axpyRowsF16x3 != nil {
		for ; h+3 <= nq; h += 3 {
			ks.axpyRowsF16x3(dst[h*ldd:], ldd, w[h*ldw:], ldw, x, stride, rows)
		}
	}
	for ; h < nq; h++ {
		ks.axpyRowsF16(dst[h*ldd:h*ldd+n], w[h*ldw:h*ldw+rows], x, stride)
	}
}

// scoresT1Generic is ScoresF16T's kernel for one query.
func scoresT1Generic(out, q []float32, kt []byte, d int) {
	for j := 0; j < KeyBlock; j++ {
		var s float32
		for x := 0; x < d; x++ {
			s += q[x] * f16At(kt, 2*(x*KeyBlock+j))
		}
		out[j] = s
	}
}

// scoresT3Generic is ScoresF16T's kernel for three queries ldq apart.
func scoresT3Generic(out, q []float32, ldq int, kt []byte, d int) {
	for i := 0; i < 3; i++ {
		scoresT1Generic(out[i*KeyBlock:], q[i*ldq:], kt, d)
	}
}
