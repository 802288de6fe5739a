package kernels

// r8x4x3Generic is the pure-Go twin of the three-token r8 kernel
// (vnnir8x3_amd64.s): the four rows of one r8 group (nb blocks of stride
// bytes at p) times tokens t = 0, 1, 2 (activations xq[t*ldx:], scales
// xd[t*ldd:], terms act[t*lda:]), row r of token t to c[t*ldc+r]; each
// token as r8x4Generic computes it.
func r8x4x3Generic(p []byte, stride int, xq []byte, ldx int, xd []float32, ldd int, act []float32, lda, nb int, c []float32, ldc int) {
	for t := 0; t < 3; t++ {
		r8x4Generic(p, stride, xq[t*ldx:], xd[t*ldd:], act[t*lda:], nb, c[t*ldc:t*ldc+4])
	}
}
