package report

import (
	"strings"

	"github.com/fakbench/fakbench/internal/host"
)

// simdFlags are the /proc/cpuinfo flags that decide which kernels run; the
// host record keeps these rather than the whole flag list.
var simdFlags = []string{
	"sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c",
	"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni",
	"avx512_bf16", "avx512_fp16", "avx512vbmi", "avx_vnni", "amx_tile",
	"amx_int8", "amx_bf16", "asimd", "asimddp", "sve", "i8mm",
}

// kernelFeatures are the CPU features that decide how fast LLM kernels run
// (wide vectors, int8 and bf16 dot products, matrix tiles), in cpuinfo
// names: the features a row is said to leave unused are among these.
var kernelFeatures = []string{
	"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512vbmi",
	"avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile",
	"amx_int8", "amx_bf16", "asimd", "asimddp", "sve", "i8mm",
}

// NewHost is the report's record of the machine's facts (internal/host
// collects them): the SIMD-relevant CPU flags in the order of simdFlags,
// memory in GB to one decimal. The memory bandwidth is left 0: it is
// measured separately.
func NewHost(f host.Facts) Host {
	h := Host{Name: f.Name, OS: f.OS, Arch: f.Arch, CPUModel: f.CPU.Model, Cores: f.Cores,
		GoVersion: f.GoVersion, CCompiler: f.CCompiler}
	var flags []string
	for _, s := range simdFlags {
		if f.CPU.Has(s) {
			flags = append(flags, s)
		}
	}
	h.CPUFeatures = strings.Join(flags, " ")
	if f.MemoryBytes > 0 {
		gb := float64(f.MemoryBytes) / (1 << 30)
		h.MemoryGB = float64(int(gb*10+0.5)) / 10
	}
	return h
}

// GivenBandwidth is the statistic of a bandwidth the caller gave (--membw)
// instead of one this run measured.
const GivenBandwidth = "given with --membw"

// SetBandwidth records a measured memory bandwidth: the figure the decode
// roofline divides by, the statistic that made it and every sample.
func (h *Host) SetBandwidth(b host.Bandwidth) {
	h.MemBWGBs, h.MemBWStatistic, h.MemBWSamplesGBs = b.GBs, b.Statistic, b.SamplesGBs
}

// UnusedFeatures lists the kernel-relevant features of the node (the
// host's CPUFeatures) that a backend's code does not use, given the
// features it says it uses (Settings()["isa"], comma-separated cpuinfo
// names). It returns "none" when it uses them all, and "" when either list
// is unknown.
func UnusedFeatures(h *Host, isa string) string {
	if h == nil || h.CPUFeatures == "" {
		return ""
	}
	used := map[string]bool{}
	for _, f := range strings.Split(isa, ",") {
		used[strings.TrimSpace(f)] = true
	}
	node := map[string]bool{}
	for _, f := range strings.Fields(h.CPUFeatures) {
		node[f] = true
	}
	var out []string
	for _, f := range kernelFeatures {
		if node[f] && !used[f] {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}
