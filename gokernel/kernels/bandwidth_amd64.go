//go:build amd64 && !noasm

package kernels

import "encoding/binary"

// The streaming read of MeasureBandwidth (bandwidth_amd64.s).

// sumBytesAVX2 is, exactly (integer sums), for n a multiple of 256,
//
//	var s uint64
//	for i := 0; i < n; i += 8 {
//		s += binary.LittleEndian.Uint64(p[i:])
//	}
//	return s
//
// a checksum that keeps the reads from being optimised away.
//
//go:noescape
func sumBytesAVX2(p *byte, n int) uint64

func sumBytesAsm(b []byte) uint64 {
	n := len(b) &^ 255
	var s uint64
	if n > 0 {
		s = sumBytesAVX2(&b[0], n)
	}
	i := n
	for ; i+8 <= len(b); i += 8 {
		s += binary.LittleEndian.Uint64(b[i:])
	}
	for ; i < len(b); i++ {
		s += uint64(b[i])
	}
	return s
}
