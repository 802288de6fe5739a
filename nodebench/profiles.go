package nodebench

// CPUThreshold is the batched-decode threshold of the "cpu" profile: the
// aggregate decode tokens/s at the largest batch must be at least this many
// times the B = 1 figure.
//
// Why not 45x: on a CPU, decode at B = 1 is bound by memory bandwidth
// (every weight is read once per token), and batching can at best lift the
// aggregate rate to the compute-bound rate, which the prefill rate
// measures. Measured on the development node while it was quiet (2
// threads of an AMD EPYC, synthetic:smol135m-untied:q8_0, full node-bench run of
// 2026-11-23): tuned llama.cpp prefills 1024 tokens at 327 tok/s and
// decodes at 97 tok/s with B = 1 (prompt 64), a ceiling of ~3.4x; its
// batch curve reached 2.34x at B = 64 (best 2.51x at B = 32) and the Go
// kernel's 4.27x at B = 64. A backend that merely loops over the sequences
// stays at or below 1x. 2x sits between the two: it passes an engine that
// shares each weight read across the batch, with a margin for run-to-run
// noise (the same curve moves by ~10 % between quiet runs), and fails one
// that does not. Curves taken while the node was oversubscribed (load
// average 12-17 on 2 cores) swung between 0.04x and 2.9x from one B to the
// next, because spinning thread pools lose their cores: the clean-node
// gate exists for that reason.
const CPUThreshold = 2.0

// CPUBasis is the reason behind CPUThreshold, printed with every gate
// verdict that uses the cpu profile.
const CPUBasis = "cpu default 2x: batching lifts CPU decode at most from the bandwidth-bound rate to the compute-bound (prefill) rate; " +
	"measured on the quiet 2-core development node (synthetic:smol135m-untied:q8_0): llama.cpp 2.34x and the Go kernel 4.27x at B=64, " +
	"a prefill/decode ceiling of ~3.4x, a backend without weight sharing <= 1x; 2x demands real weight sharing with a margin for noise"
