package nodebench

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/cpuid"
)

func parseCPU(t *testing.T, flags string) cpuid.CPU {
	t.Helper()
	cpu, err := cpuid.Parse(strings.NewReader("flags : " + flags + "\n"))
	require.NoError(t, err)
	return cpu
}

func TestCheckBuildCPU(t *testing.T) {
	zen3 := parseCPU(t, "fpu sse2 avx avx2 fma f16c hypervisor")
	xeon := parseCPU(t, "fpu sse2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni amx_tile amx_int8")
	avx2 := []string{"avx", "avx2", "f16c", "fma"}

	b := CheckBuildCPU(zen3.Fingerprint, nil, avx2, zen3, nil)
	assert.Equal(t, BuildCPUMatch, b.Status)
	assert.NoError(t, b.Err())
	assert.Equal(t, zen3.Fingerprint, b.BuildFingerprint)
	assert.Equal(t, zen3.Fingerprint, b.CPUFingerprint)
	assert.Equal(t, avx2, b.NativeISA)
	assert.Equal(t, zen3.ISA, b.CPUISA)
	assert.Empty(t, b.Missing)

	// Built on the AMX Xeon, run on Zen 3: features missing.
	b = CheckBuildCPU(xeon.Fingerprint, nil, append(avx2, "amx_int8", "amx_tile", "avx512f"), zen3, nil)
	assert.Equal(t, BuildCPUMismatch, b.Status)
	assert.Equal(t, []string{"amx_int8", "amx_tile", "avx512f"}, b.Missing)
	err := b.Err()
	require.Error(t, err)
	for _, want := range []string{"amx_int8, amx_tile, avx512f", "SIGILL", "built for CPU fingerprint " + xeon.Fingerprint,
		"this CPU is " + zen3.Fingerprint, "make build"} {
		assert.Contains(t, err.Error(), want)
	}

	// Built on Zen 3, run on the Xeon: nothing missing, but another CPU's build.
	b = CheckBuildCPU(zen3.Fingerprint, nil, avx2, xeon, nil)
	assert.Equal(t, BuildCPUMismatch, b.Status)
	assert.Empty(t, b.Missing)
	require.Error(t, b.Err())
	assert.Contains(t, b.Err().Error(), "built for CPU fingerprint "+zen3.Fingerprint+", but this CPU is "+xeon.Fingerprint)
	assert.Contains(t, b.Err().Error(), "make build")

	// C and C++ compiled for different CPUs.
	b = CheckBuildCPU("", errors.New("cpuid: CGO_CFLAGS carries CPU fingerprint \"a\" but CGO_CXXFLAGS \"b\""), avx2, zen3, nil)
	assert.Equal(t, BuildCPUMismatch, b.Status)
	assert.Contains(t, b.Err().Error(), `CGO_CXXFLAGS "b"`)
	assert.Contains(t, b.Err().Error(), "make build")

	// No fingerprint recorded: reported, not a failure.
	b = CheckBuildCPU("", nil, nil, zen3, nil)
	assert.Equal(t, BuildCPUNotRecorded, b.Status)
	assert.NoError(t, b.Err())
	assert.Contains(t, b.Detail, "not built by make build")
	assert.Equal(t, []string{}, b.NativeISA, "an empty list, not null, in the JSON")
	// ... unless its code targets what this CPU lacks.
	b = CheckBuildCPU("", nil, []string{"amx_tile"}, zen3, nil)
	assert.Equal(t, BuildCPUMismatch, b.Status)
	assert.Contains(t, b.Err().Error(), "built for CPU fingerprint (none recorded)")

	// The CPU cannot be read.
	b = CheckBuildCPU(xeon.Fingerprint, nil, avx2, cpuid.CPU{}, errors.New("cpuid: open /proc/cpuinfo: permission denied"))
	assert.Equal(t, BuildCPUUnknown, b.Status)
	assert.NoError(t, b.Err())
	assert.Contains(t, b.Detail, "permission denied")
	assert.Empty(t, b.Missing)
	assert.Equal(t, []string{}, b.CPUISA)
}

func TestCollectBuildCPUAndRoundTrip(t *testing.T) {
	b := CollectBuildCPU(nil)
	cpu, err := cpuid.Current()
	if err != nil {
		assert.Equal(t, BuildCPUUnknown, b.Status)
	} else {
		assert.Equal(t, cpu.Fingerprint, b.CPUFingerprint)
		// A test binary is built on the machine that runs it: with the
		// Makefile's flags it matches, with plain go test it records none.
		assert.Contains(t, []string{BuildCPUMatch, BuildCPUNotRecorded}, b.Status, b.Detail)
	}

	dir := t.TempDir()
	require.NoError(t, Layout{Dir: dir}.WriteManifest(&Manifest{Schema: ManifestSchema, BuildCPU: &b}))
	got, err := Layout{Dir: dir}.ReadManifest()
	require.NoError(t, err)
	require.NotNil(t, got.BuildCPU)
	assert.Equal(t, b, *got.BuildCPU)
}
