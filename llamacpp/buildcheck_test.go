package llamacpp

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/internal/cpuid"
	"github.com/fakbench/fakbench/transport"
)

// zen4 is an AVX-512 CPU without AMX, as /proc/cpuinfo would show it.
func zen4(t *testing.T) cpuid.CPU {
	t.Helper()
	cpu, err := cpuid.Parse(strings.NewReader("flags : fpu sse2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx512_bf16 hypervisor\n"))
	require.NoError(t, err)
	return cpu
}

// A binary compiled on an AMX Xeon, run on Zen 4: refused, naming what is
// missing, both fingerprints and the fix.
func TestBuildCPURefusesMissingFeatures(t *testing.T) {
	cpu := zen4(t)
	b := buildCPU{targeted: []string{"amx_int8", "amx_tile", "avx2", "avx512_fp16", "avx512f", "fma"}, buildFP: "3679ba7082f2", cpu: cpu}
	err := b.err()
	require.Error(t, err)
	var ue *transport.UnavailableError
	require.True(t, errors.As(err, &ue), "%T", err)
	assert.True(t, transport.IsUnavailable(err))
	assert.Equal(t, Name, ue.Backend)
	assert.Equal(t, "backend llamacpp unavailable: this binary's llama.cpp code was compiled for CPU features this CPU lacks "+
		"(amx_int8, amx_tile, avx512_fp16), so it would die with SIGILL (illegal instruction): it was built for CPU fingerprint 3679ba7082f2, "+
		"this CPU is "+cpu.Fingerprint+"; rebuild on this node with `make build` (it compiles with -march=native for this CPU)", err.Error())

	s := b.settings()
	assert.Equal(t, "3679ba7082f2", s["build_cpu_fingerprint"])
	assert.Equal(t, cpu.Fingerprint, s["cpu_fingerprint"])
	assert.Equal(t, "false", s["build_cpu_match"])
	assert.Equal(t, "amx_int8,amx_tile,avx2,avx512_fp16,avx512f,fma", s["build_isa"])
	assert.Equal(t, "amx_int8,amx_tile,avx512_fp16", s["build_isa_missing"])

	// Built without the Makefile's flags (no fingerprint), still refused.
	b.buildFP = ""
	err = b.err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "it was built for a CPU fingerprint this binary does not record, this CPU is "+cpu.Fingerprint)
	assert.Contains(t, err.Error(), "make build")
	assert.Equal(t, "unknown", b.settings()["build_cpu_match"])
	assert.Contains(t, b.settings()["build_cpu_fingerprint"], "not recorded")
}

func TestBuildCPUAccepts(t *testing.T) {
	cpu := zen4(t)
	// Built on this CPU.
	b := buildCPU{targeted: []string{"avx2", "avx512_bf16", "avx512f", "fma"}, buildFP: cpu.Fingerprint, cpu: cpu}
	require.NoError(t, b.err())
	s := b.settings()
	assert.Equal(t, "true", s["build_cpu_match"])
	assert.Equal(t, cpu.Fingerprint, s["build_cpu_fingerprint"])
	assert.NotContains(t, s, "build_isa_missing")

	// Built for another CPU whose features this one has (an AVX2 build on
	// Zen 4): it runs, and the settings say it was not built for this CPU.
	b = buildCPU{targeted: []string{"avx2", "fma"}, buildFP: "0123456789ab", cpu: cpu}
	require.NoError(t, b.err())
	assert.Equal(t, "false", b.settings()["build_cpu_match"])

	// A portable build (no -march, no fingerprint) targets nothing extra.
	b = buildCPU{cpu: cpu}
	require.NoError(t, b.err())
	assert.Equal(t, "unknown", b.settings()["build_cpu_match"])
	assert.Empty(t, b.settings()["build_isa"])

	// The CPU cannot be read: nothing is known to be missing, so nothing is
	// refused, and the settings say why the CPU is unknown.
	b = buildCPU{targeted: []string{"amx_tile"}, buildFP: "3679ba7082f2", cpuErr: errors.New("cpuid: open /proc/cpuinfo: no such file")}
	require.NoError(t, b.err())
	s = b.settings()
	assert.Equal(t, "unknown", s["build_cpu_match"])
	assert.Equal(t, "unknown: cpuid: open /proc/cpuinfo: no such file", s["cpu_fingerprint"])
	assert.NotContains(t, s, "build_isa_missing")
}

// This test binary runs on the CPU it was compiled on, so the check passes
// and a loaded backend's settings carry the fingerprints.
func TestBuildCPUOnThisMachine(t *testing.T) {
	b := currentBuildCPU()
	require.NoError(t, b.err())
	if b.cpuErr == nil && b.buildFP != "" {
		assert.Equal(t, b.cpu.Fingerprint, b.buildFP, "the Makefile's fingerprint is this CPU's")
	}
	s := map[string]string{}
	addBuildCPUSettings(s)
	assert.Equal(t, b.settings(), s)
	if Available() != nil {
		t.Skip(Available())
	}
	be, err := Open(context.Background(), adapters.Options{ModelPath: tinyModel(t, "f32")})
	require.NoError(t, err)
	defer be.Close()
	got := be.Settings()
	for k, v := range s {
		assert.Equal(t, v, got[k], k)
	}
	assert.NotEmpty(t, got["cpu_fingerprint"])
}
