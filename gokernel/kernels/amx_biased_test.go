//go:build amd64 && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBiasedAMXMatchesGeneric: the biased tile kernels (the r4 types'
// prefill on blocks of 32 values, the r8 types' on half blocks of 16)
// against their pure-Go twins and a float64 sum, for whole and partial
// tiles and odd block counts; nothing is written outside the tile.
func TestBiasedAMXMatchesGeneric(t *testing.T) {
	requireAMX(t)
	rng := rand.New(rand.NewPCG(95, 96))
	for _, sub := range []int{32, 16} {
		kernel, twin := q8r16BAMX, q8r16BTileGeneric
		if sub == 16 {
			kernel, twin = q8r16HAMX, q8r16HTileGeneric
		}
		testBiasedAMX(t, rng, sub, kernel, twin)
	}
}

func testBiasedAMX(t *testing.T, rng *rand.Rand, sub int, kernel, twin func([]byte, int, []byte, int, []float32, int, int, []float32, int)) {
	vals := sub * q8r16Rows
	bb := vals + 8*q8r16Rows
	for _, ng := range []int{1, 2} {
		for _, nb := range []int{1, 3, 8} {
			p := make([]byte, ng*nb*bb)
			for blk := 0; blk < ng*nb; blk++ {
				b := p[blk*bb:]
				for i := 0; i < vals; i++ {
					b[i] = byte(rng.IntN(256)) // int8 values, -128 included
				}
				for n := 0; n < 2*q8r16Rows; n++ {
					putF32(b[vals+4*n:], float32(rng.NormFloat64()))
				}
			}
			ldx := sub*nb + 16
			xq := randActs(rng, 16*ldx)
			xds := randF32(rng, 32*nb)
			for _, mrows := range []int{1, 9, 16} {
				ldc := 16*ng + 3
				got, want := sentinels(16*ldc), make([]float32, 16*ldc)
				kernel(p, ng, xq, ldx, xds, nb, mrows, got, ldc)
				twin(p, ng, xq, ldx, xds, nb, mrows, want, ldc)
				requireTile(t, got, want, ng, mrows, ldc, func(m, c int) (float64, float64) {
					g, n := c/16, c%16
					var ref, abs float64
					for b := 0; b < nb; b++ {
						blk := p[(g*nb+b)*bb:]
						var dot int64
						for k := 0; k < sub; k++ {
							dot += int64(int8(blk[64*(k/4)+4*n+k%4])) * int64(int8(xq[m*ldx+sub*b+k]))
						}
						t1 := float64(dot) * float64(f32le(blk[vals+4*n:])) * float64(xds[32*b+m])
						t2 := float64(f32le(blk[vals+64+4*n:])) * float64(xds[32*b+16+m])
						ref += t1 + t2
						abs += math.Abs(t1) + math.Abs(t2)
					}
					return ref, 4*float64(nb+2)*u32*abs + 1e-30
				}, fmt.Sprintf("sub=%d ng=%d nb=%d mrows=%d", sub, ng, nb, mrows))
			}
		}
	}
}
