package kernels

// The dispatch table. Start-up code for an architecture may replace these
// with SIMD versions after checking CPU features; Use("generic") restores the
// pure-Go versions (for ablations and tests).
var (
	dotF32     = dotF32Generic
	dotF16     = dotF16Generic
	dotQ8_0    = dotQ8_0Generic
	quantQ8_0  = quantizeQ8_0Generic
	axpy       = axpyGeneric
	activeName = "generic"
)

// Name says which kernel set is active, e.g. "generic" or "avx2".
func Name() string { return activeName }

// DotF32 returns the dot product of a and b[:len(a)].
func DotF32(a, b []float32) float32 { return dotF32(a, b) }

// DotF16 returns the dot product of the little-endian f16 row w and x.
func DotF16(w []byte, x []float32) float32 { return dotF16(w, x) }

// DotQ8_0 returns the dot product of two q8_0 rows of the same length.
func DotQ8_0(w, x []byte) float32 { return dotQ8_0(w, x) }

// QuantizeQ8_0 quantizes x (len a multiple of 32) into dst
// (len(x)/32*34 bytes).
func QuantizeQ8_0(dst []byte, x []float32) { quantQ8_0(dst, x) }

// Axpy computes dst[i] += a*x[i] for i < len(dst).
func Axpy(dst []float32, a float32, x []float32) { axpy(dst, a, x) }

// MatMul computes dst[t*w.Rows+r] = W[r,:] . x[t*w.Cols:(t+1)*w.Cols] for
// every token t < nTok and row r < w.Rows. For q8_0 weights the activations
// are quantized to q8_0 first (as ggml does); scratch must then hold at
// least nTok*w.Cols/32*34 bytes (it may be nil for other types).
func MatMul(dst []float32, w *Matrix, x []float32, nTok int, scratch []byte) {
	MatMulRows(dst, w, x, nTok, scratch, 0, w.Rows, true)
}

// MatMulRows is MatMul restricted to output rows [r0, r1); it lets a worker
// pool split one matrix multiply by rows. When quantize is false the caller
// has already quantized x into scratch (q8_0 weights only).
func MatMulRows(dst []float32, w *Matrix, x []float32, nTok int, scratch []byte, r0, r1 int, quantize bool) {
	cols := w.Cols
	switch w.Type {
	case TypeF32:
		for t := 0; t < nTok; t++ {
			xt := x[t*cols : (t+1)*cols]
			for r := r0; r < r1; r++ {
				row := w.Row(r)
				dst[t*w.Rows+r] = dotF32(bytesAsF32(row), xt)
			}
		}
	case TypeF16:
		for t := 0; t < nTok; t++ {
			xt := x[t*cols : (t+1)*cols]
			for r := r0; r < r1; r++ {
				dst[t*w.Rows+r] = dotF16(w.Row(r), xt)
			}
		}
	case TypeQ8_0:
		qb := w.RowBytes
		if quantize {
			for t := 0; t < nTok; t++ {
				quantQ8_0(scratch[t*qb:(t+1)*qb], x[t*cols:(t+1)*cols])
			}
		}
		for t := 0; t < nTok; t++ {
			xq := scratch[t*qb : (t+1)*qb]
			for r := r0; r < r1; r++ {
				dst[t*w.Rows+r] = dotQ8_0(w.Row(r), xq)
			}
		}
	default:
		panic("kernels: MatMul on unsupported type " + w.Type.String())
	}
}
