package report

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cpuinfo2x2 = `processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
physical id	: 0
core id		: 0
flags		: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni foo

processor	: 1
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
physical id	: 0
core id		: 0
flags		: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni foo

processor	: 2
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
physical id	: 0
core id		: 1
flags		: fpu

processor	: 3
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
physical id	: 1
core id		: 1
flags		: fpu
`

func TestParseCPUInfo(t *testing.T) {
	info, err := ParseCPUInfo(strings.NewReader(cpuinfo2x2))
	require.NoError(t, err)
	assert.Equal(t, "Intel(R) Xeon(R) Test CPU @ 2.00GHz", info.Model)
	assert.Equal(t, 4, info.Logical)
	assert.Equal(t, 3, info.Physical, "hyper-threads share a core; a second socket's core 1 is distinct")
	assert.Equal(t, []string{"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"}, info.Flags)

	// No core ids (some VMs, ARM): Physical stays 0 so callers fall back.
	info, err = ParseCPUInfo(strings.NewReader("processor : 0\nFeatures : asimd fp\n\nprocessor : 1\n"))
	require.NoError(t, err)
	assert.Equal(t, 0, info.Physical)
	assert.Equal(t, 2, info.Logical)
	assert.Equal(t, []string{"asimd"}, info.Flags)
}

func TestParseMemTotal(t *testing.T) {
	b, ok := ParseMemTotal(strings.NewReader("MemFree: 10 kB\nMemTotal:       24576000 kB\n"))
	require.True(t, ok)
	assert.Equal(t, int64(24576000*1024), b)
	_, ok = ParseMemTotal(strings.NewReader("MemFree: 10 kB\n"))
	assert.False(t, ok)
	_, ok = ParseMemTotal(strings.NewReader("MemTotal: lots kB\n"))
	assert.False(t, ok)
}

func TestCollectHost(t *testing.T) {
	h := CollectHost()
	assert.Equal(t, runtime.GOOS, h.OS)
	assert.Equal(t, runtime.GOARCH, h.Arch)
	assert.Equal(t, runtime.Version(), h.GoVersion)
	assert.Positive(t, h.Cores)
	assert.LessOrEqual(t, h.Cores, runtime.NumCPU())
	if runtime.GOOS == "linux" {
		assert.NotEmpty(t, h.CPUModel)
		assert.Positive(t, h.MemoryGB)
	}
	assert.Positive(t, PhysicalCores())
}

func TestMeasureMemBandwidth(t *testing.T) {
	bw := MeasureMemBandwidth(8<<20, 2, 2)
	assert.Positive(t, bw)
	assert.Less(t, bw, 10000.0, "GB/s far beyond any machine: the byte count is wrong")
	assert.Zero(t, MeasureMemBandwidth(0, 2, 2))
	assert.Zero(t, MeasureMemBandwidth(1<<20, 2, 0))
	assert.Zero(t, MeasureMemBandwidth(1, 4, 1))
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
