package llamacpp

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gokernel/kernels"
)

// The Go kernel's dequantization of every type it runs equals ggml's, bit
// for bit, on the same blocks: blocks written by ggml's own quantizer from
// random rows (with outliers, as real weights have), and blocks of random
// bits (every code, sign and scale pattern), their f16 scales made finite.
func TestGoKernelDequantizationMatchesGGML(t *testing.T) {
	rng := rand.New(rand.NewPCG(91, 92))
	f16Fields := map[kernels.Type][]int{
		kernels.TypeF16: nil, kernels.TypeBF16: nil,
		kernels.TypeQ8_0: {0}, kernels.TypeQ4_0: {0}, kernels.TypeQ4_1: {0, 2}, kernels.TypeQ5_0: {0},
		kernels.TypeQ5_1: {0, 2}, kernels.TypeQ2_K: {80, 82}, kernels.TypeQ3_K: {108},
		kernels.TypeQ4_K: {0, 2}, kernels.TypeQ5_K: {0, 2}, kernels.TypeQ6_K: {208},
		kernels.TypeIQ4_NL: {0},
	}
	const n = 4 * 256
	for typ, fields := range f16Fields {
		t.Run(typ.String(), func(t *testing.T) {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
				if rng.IntN(64) == 0 {
					src[i] *= 20 // an outlier
				}
			}
			rb, err := kernels.RowBytes(typ, n)
			require.NoError(t, err)
			cases := map[string][]byte{}
			if typ != kernels.TypeIQ4_NL { // QuantizeRef does not make iq4_nl (it needs ggml's iq init)
				fromGGML, err := QuantizeRef(int(typ), src)
				require.NoError(t, err)
				cases["ggml-quantized"] = fromGGML
			}
			random := make([]byte, rb)
			for i := range random {
				random[i] = byte(rng.IntN(256))
			}
			if typ == kernels.TypeF16 || typ == kernels.TypeBF16 {
				for i := 0; i < n; i++ { // finite halves only
					v := float32(rng.NormFloat64())
					h := kernels.F32ToF16(v)
					if typ == kernels.TypeBF16 {
						h = uint16(math.Float32bits(v) >> 16)
					}
					binary.LittleEndian.PutUint16(random[2*i:], h)
				}
			}
			per := rb / (n / blockOf(typ)) // bytes per block
			for o := 0; o < len(random); o += per {
				for _, f := range fields {
					binary.LittleEndian.PutUint16(random[o+f:], kernels.F32ToF16(float32(rng.NormFloat64()*0.02)))
				}
			}
			cases["random bits"] = random
			for name, data := range cases {
				want, err := Dequantize(int(typ), data, n)
				require.NoError(t, err)
				got, err := kernels.Dequantize(typ, data, n)
				require.NoError(t, err)
				mism := 0
				for i := range want {
					if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
						if mism == 0 {
							t.Errorf("%s %s: value %d: ggml %g (%#x), Go kernel %g (%#x)", typ, name, i,
								want[i], math.Float32bits(want[i]), got[i], math.Float32bits(got[i]))
						}
						mism++
					}
				}
				assert.Zero(t, mism, "%s %s: values that differ from ggml's", typ, name)
			}
		})
	}
}

// blockOf is the number of values per block of typ.
func blockOf(typ kernels.Type) int {
	switch typ {
	case kernels.TypeF16, kernels.TypeBF16:
		return 1
	case kernels.TypeQ2_K, kernels.TypeQ3_K, kernels.TypeQ4_K, kernels.TypeQ5_K, kernels.TypeQ6_K:
		return 256
	}
	return 32
}
