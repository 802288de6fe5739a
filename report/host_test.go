package report

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/fakbench/fakbench/internal/host"
)

func TestNewHost(t *testing.T) {
	f := host.Facts{Name: "n1", OS: "linux", Arch: "amd64", Cores: 3, MemoryBytes: 24576000 * 1024, GoVersion: "go1.26", CCompiler: "cc 12",
		CPU: host.CPUInfo{Model: "Test CPU", Flags: []string{"avx", "avx2", "avx512_vnni", "avx512f", "f16c", "fma", "foo", "fpu", "sse4_2"}}}
	assert.Equal(t, Host{Name: "n1", OS: "linux", Arch: "amd64", CPUModel: "Test CPU", Cores: 3, MemoryGB: 23.4, GoVersion: "go1.26", CCompiler: "cc 12",
		CPUFeatures: "sse4_2 avx avx2 fma f16c avx512f avx512_vnni"}, NewHost(f), "the SIMD flags in simdFlags' order; memory in GB to one decimal")
	assert.Equal(t, Host{}, NewHost(host.Facts{}))
}

func TestNewHostOfThisMachine(t *testing.T) {
	h := NewHost(host.Collect())
	assert.Equal(t, host.PhysicalCores(), h.Cores)
	assert.Zero(t, h.MemBWGBs, "measured separately")
}

func TestUnusedFeatures(t *testing.T) {
	h := &Host{CPUFeatures: "ssse3 avx avx2 fma f16c avx512f avx512bw avx512_vnni amx_tile amx_int8"}
	assert.Equal(t, "avx512f avx512bw avx512_vnni amx_tile amx_int8", UnusedFeatures(h, "avx2,fma,f16c"))
	assert.Equal(t, "none", UnusedFeatures(h, "avx2,fma,f16c,avx512f,avx512bw,avx512_vnni,amx_tile,amx_int8"))
	// A pure-Go kernel uses none of them.
	assert.Equal(t, "avx2 fma f16c avx512f avx512bw avx512_vnni amx_tile amx_int8", UnusedFeatures(h, ""))
	// Unknown host features: nothing can be said.
	assert.Equal(t, "", UnusedFeatures(&Host{}, "avx2"))
	assert.Equal(t, "", UnusedFeatures(nil, "avx2"))
}
