package kernels

import (
	"fmt"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/fakbench/fakbench/internal/env"
)

// kernelSet is one complete set of kernels: the pure-Go set ("generic") or an
// architecture's SIMD set. Every function has the same contract in every
// set; the SIMD ones are tested against the pure-Go ones.
type kernelSet struct {
	name string
	// isa lists the CPU features the set's code executes, comma-separated
	// and named as /proc/cpuinfo names them ("" for the pure-Go set, which
	// uses only what the Go compiler emits for the baseline GOAMD64 level).
	isa string

	dotF32    func(a, b []float32) float32
	dotF16    func(w []byte, x []float32) float32
	dotQ8_0   func(w, x []byte) float32
	quantQ8_0 func(dst []byte, x []float32)
	axpy      func(dst []float32, a float32, x []float32)

	// quantSplit quantizes x (a multiple of 32 long) into the split q8_0
	// layout the matrix kernels read: int8 values in qs (len(x) bytes) and
	// the f16-rounded block scales as float32 in ds (len(x)/32).
	quantSplit func(qs []byte, ds []float32, x []float32)

	// q8x4 dots four q8_0 weight rows (w, w+ldw, w+2ldw, w+3ldw bytes; nb
	// blocks each) with one split-layout activation row; out[r] = row r . x.
	q8x4 func(w []byte, ldw int, xq []byte, xd []float32, nb int, out []float32)
	// q8x4x3 is q8x4 for three activation rows at once (row t: xq[t*ldx:],
	// xd[t*ldd:]); c[t*ldc+r] = row r . token t.
	q8x4x3 func(w []byte, ldw int, xq []byte, ldx int, xd []float32, ldd int, nb int, c []float32, ldc int)

	// r4x4 and r8x4 dot the four rows of one packed group (packed.go)
	// with one token: int8 activations xq with per-block terms act (and
	// scales xd for r8); stride is the r8 group's bytes per block.
	r4x4 func(p []byte, xq []byte, act []float32, nb int, out []float32)
	r8x4 func(p []byte, stride int, xq []byte, xd, act []float32, nb int, out []float32)
	// r4x4x3 is r4x4 for three tokens (token t at xq[t*ldx:] and
	// act[t*lda:], row r to c[t*ldc+r]): r4x4x3Generic's contract; nil
	// in sets that prefill the r4 types token by token.
	r4x4x3 func(p []byte, xq []byte, ldx int, act []float32, lda, nb int, c []float32, ldc int)
	// r8x4x3 is r8x4 for three tokens (token t at xq[t*ldx:], xd[t*ldd:]
	// and act[t*lda:], row r to c[t*ldc+r]): r8x4x3Generic's contract; nil
	// in sets that prefill the r8 types token by token.
	r8x4x3 func(p []byte, stride int, xq []byte, ldx int, xd []float32, ldd int, act []float32, lda, nb int, c []float32, ldc int)

	// packQ8 says whether Prepare re-lays q8_0 matrices into q8r16
	// (q8r16.go) for this set. q8r16 is q8r16Generic's contract (ng groups
	// of 16 rows times one token) and q8r16Tile q8r16TileGeneric's (times
	// up to 16 tokens); q8r16Tile is nil in sets without a tile kernel,
	// which then run prefill token by token.
	packQ8    bool
	q8r16     func(p []byte, ng int, xq []byte, xd []float32, xc []int32, nb int, out []float32)
	q8r16Tile func(p []byte, ng int, xq []byte, ldx int, xdT []float32, nb, mrows int, c []float32, ldc int)
	// r4Tile is q8r16BTileGeneric's contract: the tile kernel for the
	// biased layout the r4 types are converted to for prefill (nil in
	// sets without tiles).
	r4Tile func(p []byte, ng int, xq []byte, ldx int, xds []float32, nb, mrows int, c []float32, ldc int)
	// bf16 holds the bf16 tile kernels (amxbf16.go) that prefill f16 and
	// f32 weights; nil in sets without them.
	bf16 *bf16Kernels
	// r8Tile is q8r16HTileGeneric's contract, for the r8 types' prefill.
	r8Tile func(p []byte, ng int, xq []byte, ldx int, xds []float32, nb, mrows int, c []float32, ldc int)

	// f16x4 and f32x4 dot four weight rows of n values (row stride ldw
	// bytes) with x[:n]; the x4x3 versions take three activation rows
	// (stride ldx floats) and write c[t*ldc+r].
	f16x4   func(w []byte, ldw int, x []float32, n int, out []float32)
	f16x4x3 func(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int)
	f32x4   func(w []byte, ldw int, x []float32, n int, out []float32)
	f32x4x3 func(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int)

	// sumBytes streams b and returns a checksum (see sumBytesGeneric).
	sumBytes func(b []byte) uint64

	// dotRows and axpyRows are the attention kernels (DotRowsF32,
	// AxpyRowsF32).
	dotRows  func(out, a, b []float32, stride int)
	axpyRows func(dst, w, x []float32, stride int)
	// scaleMax and expShiftSum are ScaleMaxF32s and ExpShiftSumF32s.
	scaleMax    func(x []float32, scale float32) float32
	expShiftSum func(x []float32, shift float32) float32
	// scoresT3 and scoresT1 are ScoresF16T's kernels for three queries
	// (ldq apart) and one; axpyRowsF16x3 is AxpyRowsF16Heads's for three
	// heads of 64 values (nil where the set has none: heads go one by one).
	scoresT3      func(out, q []float32, ldq int, kt []byte, d int)
	scoresT1      func(out, q []float32, kt []byte, d int)
	axpyRowsF16x3 func(dst []float32, ldd int, w []float32, ldw int, x []byte, stride, rows int)
	// axpyRowsF16 is AxpyRowsF16 and toF16 F32ToF16s (dst long enough).
	axpyRowsF16 func(dst, w []float32, x []byte, stride int)
	toF16       func(dst []byte, src []float32)

	// exp and siluMul are ExpF32s and SiLUMulF32.
	exp     func(dst, src []float32)
	siluMul func(g, u []float32)
}

var genericSet = &kernelSet{
	name:        "generic",
	isa:         "", // pure Go: no SIMD feature beyond the GOAMD64 baseline
	dotF32:      dotF32Generic,
	dotF16:      dotF16Generic,
	dotQ8_0:     dotQ8_0Generic,
	quantQ8_0:   quantizeQ8_0Generic,
	axpy:        axpyGeneric,
	quantSplit:  quantSplitGeneric,
	q8x4:        q8x4Generic,
	q8x4x3:      q8x4x3Generic,
	r4x4:        r4x4Generic,
	r8x4:        r8x4Generic,
	q8r16:       q8r16Generic,
	f16x4:       f16x4Generic,
	f16x4x3:     f16x4x3Generic,
	f32x4:       f32x4Generic,
	f32x4x3:     f32x4x3Generic,
	sumBytes:    sumBytesGeneric,
	dotRows:     dotRowsGeneric,
	axpyRows:    axpyRowsGeneric,
	axpyRowsF16: axpyRowsF16Generic,
	scoresT3:    scoresT3Generic,
	scoresT1:    scoresT1Generic,
	scaleMax:    scaleMaxGeneric,
	expShiftSum: expShiftSumGeneric,
	toF16:       toF16Generic,
	exp:         expSliceGeneric,
	siluMul:     siluMulGeneric,
}

// sets holds every kernel set this CPU can run, by name. The architecture
// files add theirs from init (archSets).
var sets = map[string]*kernelSet{"generic": genericSet}

// unavailable says why each known set missing from sets cannot run here;
// the architecture files fill it from archSets.
var unavailable = map[string]error{}

// best is the name of the fastest set this CPU supports.
var best = "generic"

var active atomic.Pointer[kernelSet]

// envErr records why FAK_KERNEL (env.Kernel), which picks the kernel set at
// start-up, could not be honoured.
var envErr error

func init() {
	for _, s := range archSets() {
		sets[s.name] = s
		best = s.name
	}
	active.Store(sets[best])
	if v := env.Kernel.Value(); v != "" {
		if err := Use(v); err != nil {
			envErr = fmt.Errorf("%s=%q ignored, using %q: %w", env.Kernel.Name, v, best, err)
		}
	}
}

func cur() *kernelSet { return active.Load() }

// Name says which kernel set is active, e.g. "generic" or "avx2".
func Name() string { return cur().name }

// ISA lists the CPU features the active set's kernels execute,
// comma-separated and named as /proc/cpuinfo names them: "avx2,fma,f16c"
// for the avx2 set (256-bit integer and float vectors, fused multiply-add,
// f16<->f32 conversion), "" for the pure-Go generic set.
func ISA() string { return cur().isa }

// Available lists the kernel sets this CPU can run, sorted by name.
func Available() []string { return slices.Sorted(maps.Keys(sets)) }

// Best is the name of the set chosen at start-up when FAK_KERNEL is unset.
func Best() string { return best }

// Use switches the active kernel set: "generic", or where the CPU has them
// "avx2" (AVX2, FMA, F16C), "avx512" (with AVX-512 F and VNNI) and "amx"
// (with AMX tiles for int8, granted by the OS). A known set the CPU cannot
// run is an error that says what is missing. It is meant for tests and ablations; switching while
// another goroutine is inside a kernel call is safe but that call may finish
// with either set.
func Use(name string) error {
	if err := Check(name); err != nil {
		return err
	}
	active.Store(sets[name])
	return nil
}

// Check says whether this CPU can run the named set: nil, or an error that
// names what the CPU lacks (a known set) or lists the known names.
func Check(name string) error {
	if _, ok := sets[name]; ok {
		return nil
	}
	if why := unavailable[name]; why != nil {
		return fmt.Errorf("kernels: kernel set %q cannot run on this CPU: %w (available: %v)", name, why, Available())
	}
	return fmt.Errorf("kernels: unknown kernel set %q (known: generic, avx2, avx512, amx; available here: %v)", name, Available())
}

// EnvError reports why the FAK_KERNEL value seen at start-up was not
// applied (unknown name, or a set this CPU cannot run); nil when it was
// applied or unset.
func EnvError() error { return envErr }

// DotF32 returns the dot product of a and b[:len(a)].
func DotF32(a, b []float32) float32 { return cur().dotF32(a, b) }

// DotF16 returns the dot product of the little-endian f16 row w and x.
func DotF16(w []byte, x []float32) float32 { return cur().dotF16(w, x) }

// DotQ8_0 returns the dot product of two q8_0 rows of the same length. The
// second row x must come from QuantizeQ8_0 (values in [-127, 127]); the
// first may hold any int8.
func DotQ8_0(w, x []byte) float32 { return cur().dotQ8_0(w, x) }

// QuantizeQ8_0 quantizes x (len a multiple of 32) into dst
// (len(x)/32*34 bytes).
func QuantizeQ8_0(dst []byte, x []float32) { cur().quantQ8_0(dst, x) }

// Axpy computes dst[i] += a*x[i] for i < len(dst).
func Axpy(dst []float32, a float32, x []float32) { cur().axpy(dst, a, x) }

// DotRowsF32 computes out[j] = a . b[j*stride : j*stride+len(a)] for every
// j < len(out): one query against a block of keys in attention, in one call
// (stride is the distance between rows in floats, for example the KV
// cache's row width). It panics, naming the sizes, when b is too short.
func DotRowsF32(out, a, b []float32, stride int) { cur().dotRows(out, a, b, stride) }

// AxpyRowsF32 computes dst[i] += sum over j < len(w) of w[j]*x[j*stride+i]
// for every i < len(dst): the softmax-weighted sum of a block of value rows
// in attention, in one call, dst read and written once. It panics, naming
// the sizes, when x is too short.
func AxpyRowsF32(dst, w, x []float32, stride int) { cur().axpyRows(dst, w, x, stride) }

// MatMul computes dst[t*w.Rows+r] = W[r,:] . x[t*w.Cols:(t+1)*w.Cols] for
// every token t < nTok and row r < w.Rows on the calling goroutine. For q8_0
// weights the activations are quantized to q8_0 first (as ggml does);
// scratch must then hold at least nTok*w.Cols/32*34 bytes (it may be nil for
// other types). Pool.MatMul is the fast, multi-threaded version.
func MatMul(dst []float32, w *Matrix, x []float32, nTok int, scratch []byte) {
	MatMulRows(dst, w, x, nTok, scratch, 0, w.Rows, true)
}

// MatMulRows is MatMul restricted to output rows [r0, r1). When quantize is
// false the caller has already quantized x into scratch (q8_0 weights only,
// standard q8_0 layout, one row of w.RowBytes per token).
func MatMulRows(dst []float32, w *Matrix, x []float32, nTok int, scratch []byte, r0, r1 int, quantize bool) {
	ks := cur()
	cols := w.Cols
	switch w.Type {
	case TypeF32:
		for t := 0; t < nTok; t++ {
			xt := x[t*cols : (t+1)*cols]
			for r := r0; r < r1; r++ {
				dst[t*w.Rows+r] = ks.dotF32(bytesAsF32(w.Row(r)), xt)
			}
		}
	case TypeF16:
		for t := 0; t < nTok; t++ {
			xt := x[t*cols : (t+1)*cols]
			for r := r0; r < r1; r++ {
				dst[t*w.Rows+r] = ks.dotF16(w.Row(r), xt)
			}
		}
	case TypeQ8_0:
		qb := w.RowBytes
		if quantize {
			for t := 0; t < nTok; t++ {
				ks.quantQ8_0(scratch[t*qb:(t+1)*qb], x[t*cols:(t+1)*cols])
			}
		}
		for t := 0; t < nTok; t++ {
			xq := scratch[t*qb : (t+1)*qb]
			for r := r0; r < r1; r++ {
				dst[t*w.Rows+r] = ks.dotQ8_0(w.Row(r), xq)
			}
		}
	default:
		panic("kernels: MatMul on unsupported type " + w.Type.String())
	}
}

// AxpyRowsF16 is AxpyRowsF32 with the rows x stored as little-endian f16
// (stride counted in values): dst[i] += sum over j < len(w) of
// w[j]*x_j[i], dst read and written once. It panics, naming the sizes, when
// x is too short.
func AxpyRowsF16(dst, w []float32, x []byte, stride int) { cur().axpyRowsF16(dst, w, x, stride) }

// F32ToF16s converts src to little-endian f16 in dst (2*len(src) bytes at
// least), rounding to nearest even like F32ToF16 (and VCVTPS2PH), bit for
// bit in every kernel set. It panics when dst is too short.
func F32ToF16s(dst []byte, src []float32) {
	if len(dst) < 2*len(src) {
		panic(fmt.Sprintf("kernels: F32ToF16s: %d values need %d bytes, have %d", len(src), 2*len(src), len(dst)))
	}
	cur().toF16(dst, src)
}

// ScaleMaxF32s multiplies x by scale in place and returns the largest
// result (-Inf for an empty x): a block of attention scores scaled by
// 1/sqrt(head dim) and its maximum, in one pass. x must not hold NaN; the
// result is then the same in every kernel set.
func ScaleMaxF32s(x []float32, scale float32) float32 { return cur().scaleMax(x, scale) }

// ExpShiftSumF32s replaces x[i] by exp(x[i] - shift) and returns the sum of
// the results: softmax numerators of a block of scores against the
// running maximum shift, and their total, in one pass. shift must be at
// least max(x) (every argument <= 0). The exponentials are ExpF32s's, bit
// for bit, except that an argument below -87.34 (a result under 2^-126,
// nothing next to the maximum's exp(0) = 1) gives 0; the sum's order
// differs between kernel sets.
func ExpShiftSumF32s(x []float32, shift float32) float32 { return cur().expShiftSum(x, shift) }
