package kernels

// r4x4x3Generic is the pure-Go twin of the three-token r4 kernel
// (vnnir4x3_amd64.s): the four rows of one r4 group (nb blocks at p) times
// tokens t = 0, 1, 2 (activations xq[t*ldx:], terms act[t*lda:]), row r
// of token t to c[t*ldc+r]; each token as r4x4Generic computes it.
func r4x4x3Generic(p []byte, xq []byte, ldx int, act []float32, lda, nb int, c []float32, ldc int) {
	for t := 0; t < 3; t++ {
		r4x4Generic(p, xq[t*ldx:], act[t*lda:], nb, c[t*ldc:t*ldc+4])
	}
}
