package host

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two sockets, SMT: processors 0 and 1 are one core's two threads; the
// second socket's core 1 is distinct from the first's. Processor 3 lacks
// the AVX-512 flags (as a hypervisor may mask one vCPU).
const cpuinfo2x2 = `processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
physical id	: 0
core id		: 0
flags		: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni foo avx2

processor	: 1
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
physical id	: 0
core id		: 0
flags		: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni foo

processor	: 2
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
physical id	: 0
core id		: 1
flags		: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni foo

processor	: 3
model name	: Intel(R) Xeon(R) Test CPU @ 2.00GHz
physical id	: 1
core id		: 1
flags		: fpu sse4_2 avx avx2 fma f16c foo
`

func TestParseCPUInfo(t *testing.T) {
	info, err := ParseCPUInfo(strings.NewReader(cpuinfo2x2))
	require.NoError(t, err)
	assert.Equal(t, "Intel(R) Xeon(R) Test CPU @ 2.00GHz", info.Model)
	assert.Equal(t, 4, info.Logical)
	assert.Equal(t, 3, info.Physical, "hyper-threads share a core; a second socket's core 1 is distinct")
	assert.Equal(t, "flags", info.FlagsKey)
	assert.Equal(t, []string{"avx", "avx2", "f16c", "fma", "foo", "fpu", "sse4_2"}, info.Flags,
		"every processor's flags, sorted, once; the masked AVX-512 flags are not usable")
	assert.True(t, info.Has("avx2"))
	assert.False(t, info.Has("avx512f"))

	// No core ids and arm64 "Features" lines (some VMs, arm64): Physical
	// stays 0 so callers fall back.
	info, err = ParseCPUInfo(strings.NewReader("processor : 0\nFeatures : asimd fp sve\n\nprocessor : 1\nFeatures : fp asimd\n"))
	require.NoError(t, err)
	assert.Equal(t, 0, info.Physical)
	assert.Equal(t, 2, info.Logical)
	assert.Equal(t, "Features", info.FlagsKey)
	assert.Equal(t, []string{"asimd", "fp"}, info.Flags)

	// Neither kind of line: no flags, not an error.
	info, err = ParseCPUInfo(strings.NewReader("processor\t: 0\n"))
	require.NoError(t, err)
	assert.Empty(t, info.FlagsKey)
	assert.Nil(t, info.Flags)
}

func TestParseCPUInfoErrors(t *testing.T) {
	_, err := ParseCPUInfo(strings.NewReader("flags : " + strings.Repeat("x", 2<<20) + "\n"))
	require.Error(t, err, "a line over 1 MiB")
	_, err = ParseCPUInfo(iotest.ErrReader(os.ErrClosed))
	require.ErrorIs(t, err, os.ErrClosed)

	_, err = ReadCPUInfo(filepath.Join(t.TempDir(), "none"))
	require.ErrorIs(t, err, os.ErrNotExist)
	p := filepath.Join(t.TempDir(), "cpuinfo")
	require.NoError(t, os.WriteFile(p, []byte("flags : "+strings.Repeat("x", 2<<20)+"\n"), 0o644))
	_, err = ReadCPUInfo(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	require.NoError(t, os.WriteFile(p, []byte(cpuinfo2x2), 0o644))
	info, err := ReadCPUInfo(p)
	require.NoError(t, err)
	assert.Equal(t, 3, info.Physical)
}

func TestCoresAndThreads(t *testing.T) {
	n := PhysicalCores()
	assert.Positive(t, n)
	assert.LessOrEqual(t, n, runtime.NumCPU(), "bounded by the CPUs the process may use")
	if c, err := CPU(); err == nil && c.Physical > 0 {
		assert.Equal(t, min(c.Physical, runtime.NumCPU()), n)
	}
	assert.Equal(t, n, Threads(0), "0 threads means the physical cores")
	assert.Equal(t, n, Threads(-1))
	assert.Equal(t, 3, Threads(3))
}

func TestParseMemInfo(t *testing.T) {
	m, err := ParseMemInfo(strings.NewReader("MemFree: 10 kB\nMemTotal:       24576000 kB\nMemAvailable:   1000 kB\n"))
	require.NoError(t, err)
	assert.Equal(t, MemInfo{TotalBytes: 24576000 * 1024, AvailableBytes: 1000 * 1024}, m)
	m, err = ParseMemInfo(strings.NewReader("MemTotal: lots kB\nMemAvailable: 2 kB\n"))
	require.NoError(t, err)
	assert.Equal(t, MemInfo{AvailableBytes: 2048}, m, "an unreadable figure stays 0")
	_, err = ParseMemInfo(strings.NewReader("MemFree: 10 kB\n"))
	require.Error(t, err)
	_, err = ParseMemInfo(iotest.ErrReader(os.ErrClosed))
	require.ErrorIs(t, err, os.ErrClosed)
}

func TestCollect(t *testing.T) {
	f := Collect()
	assert.Equal(t, runtime.GOOS, f.OS)
	assert.Equal(t, runtime.GOARCH, f.Arch)
	assert.Equal(t, runtime.Version(), f.GoVersion)
	assert.Equal(t, PhysicalCores(), f.Cores)
	if runtime.GOOS == "linux" {
		assert.NotEmpty(t, f.CPU.Model)
		assert.NotEmpty(t, f.CPU.Flags)
		assert.Positive(t, f.MemoryBytes)
		m, err := Memory()
		require.NoError(t, err)
		assert.Positive(t, m.AvailableBytes)
	}
}

// The bandwidth figure is the median of 5 single passes, with every pass
// kept and the statistic named: the run and the node bench record the same
// figure.
func TestMeasureMemBandwidth(t *testing.T) {
	bw := MeasureMemBandwidth(8<<20, 2)
	require.Len(t, bw.SamplesGBs, BandwidthPasses)
	assert.Equal(t, 5, BandwidthPasses)
	assert.Equal(t, "median of 5 single passes", bw.Statistic)
	sorted := slices.Clone(bw.SamplesGBs)
	slices.Sort(sorted)
	assert.Equal(t, sorted[2], bw.GBs, "the median of the samples")
	for _, s := range bw.SamplesGBs {
		assert.Positive(t, s)
		assert.Less(t, s, 10000.0, "GB/s far beyond any machine: the byte count is wrong")
	}
	assert.Equal(t, int64(8<<20), bw.Bytes)
	assert.Equal(t, 2, bw.Threads)

	assert.Zero(t, MeasureMemBandwidth(0, 2).GBs)
	assert.Zero(t, MeasureMemBandwidth(1, 4).GBs, "less than a byte per thread")
	assert.Empty(t, MeasureMemBandwidth(1, 4).SamplesGBs)
	assert.Equal(t, 1, MeasureMemBandwidth(2<<20, 0).Threads, "0 threads copies on one")
}

func TestMedian(t *testing.T) {
	assert.Zero(t, median(nil))
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	xs := []float64{3, 1, 2}
	_ = median(xs)
	assert.Equal(t, []float64{3, 1, 2}, xs, "the samples keep their order")
}

func TestBandwidthBytes(t *testing.T) {
	assert.Equal(t, int64(256<<20), BandwidthBytes(false))
	assert.Equal(t, int64(64<<20), BandwidthBytes(true))
}

// More threads than logical cores is refused, naming both counts and the
// way to insist; oversubscribe lets it through.
func TestCheckThreads(t *testing.T) {
	n := runtime.NumCPU()
	require.NoError(t, CheckThreads(n, false))
	require.NoError(t, CheckThreads(0, false))
	err := CheckThreads(n+1, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("--threads %d: this node has %d logical cores", n+1, n))
	assert.Contains(t, err.Error(), "--oversubscribe")
	require.NoError(t, CheckThreads(n+1, true))
}
