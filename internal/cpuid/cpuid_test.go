package cpuid

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two processors of an AVX-512 CPU without AMX; the second lacks avx512_bf16
// (as a hypervisor may mask one vCPU) and repeats a flag.
const x86Info = `processor	: 0
vendor_id	: AuthenticAMD
flags		: fpu sse sse2 pni ssse3 sse4_1 sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx512_bf16 hypervisor constant_tsc md_clear
bugs		: sysret_ss_attrs spectre_v1

processor	: 1
vendor_id	: AuthenticAMD
flags		: fpu sse sse2 pni ssse3 sse4_1 sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx avx2 hypervisor constant_tsc md_clear
bugs		: sysret_ss_attrs spectre_v1
`

const armInfo = `processor	: 0
BogoMIPS	: 50.00
Features	: fp asimd evtstrm aes sve

processor	: 1
Features	: fp asimd evtstrm aes
`

func TestParseX86KeepsCommonISAFlags(t *testing.T) {
	cpu, err := Parse(strings.NewReader(x86Info))
	require.NoError(t, err)
	assert.Equal(t, []string{"avx", "avx2", "avx512_vnni", "avx512bw", "avx512f", "avx512vl", "constant_tsc",
		"f16c", "fma", "fpu", "hypervisor", "md_clear", "pni", "sse", "sse2", "sse4_1", "sse4_2", "ssse3"}, cpu.Flags)
	// Only isa_features.txt's names are hashed: no fpu, sse, hypervisor,
	// constant_tsc or md_clear.
	assert.Equal(t, []string{"avx", "avx2", "avx512_vnni", "avx512bw", "avx512f", "avx512vl", "f16c", "fma", "pni",
		"sse4_1", "sse4_2", "ssse3"}, cpu.ISA)
	sum := sha256.Sum256([]byte(strings.Join(cpu.ISA, "\n") + "\n"))
	assert.Equal(t, hex.EncodeToString(sum[:])[:12], cpu.Fingerprint)
	assert.True(t, cpu.Has("avx512_vnni"))
	assert.False(t, cpu.Has("avx512_bf16"), "one processor lacks it")
	assert.Equal(t, []string{"amx_int8", "amx_tile", "avx512_bf16"},
		cpu.Missing([]string{"avx2", "amx_tile", "avx512_bf16", "amx_int8", "amx_tile"}))
	assert.Nil(t, cpu.Missing([]string{"avx2", "fma"}))
	assert.Nil(t, cpu.Missing(nil))
}

func TestFingerprintIgnoresNonISAFlags(t *testing.T) {
	a, err := Parse(strings.NewReader(x86Info))
	require.NoError(t, err)
	// A newer kernel and another host: mitigation and TSC flags differ.
	other := strings.NewReplacer("hypervisor constant_tsc md_clear", "tsc_known_freq arch_capabilities flush_l1d").Replace(x86Info)
	b, err := Parse(strings.NewReader(other))
	require.NoError(t, err)
	assert.Equal(t, a.Fingerprint, b.Fingerprint)
	// One ISA feature more: another fingerprint.
	c, err := Parse(strings.NewReader(strings.ReplaceAll(x86Info, " avx2 ", " avx2 amx_tile ")))
	require.NoError(t, err)
	assert.NotEqual(t, a.Fingerprint, c.Fingerprint)
	assert.Contains(t, c.ISA, "amx_tile")
}

func TestParseArmUsesEveryFeature(t *testing.T) {
	cpu, err := Parse(strings.NewReader(armInfo))
	require.NoError(t, err)
	assert.Equal(t, []string{"aes", "asimd", "evtstrm", "fp"}, cpu.Flags)
	assert.Equal(t, cpu.Flags, cpu.ISA)
	assert.Equal(t, Fingerprint([]string{"fp", "asimd", "evtstrm", "aes"}), cpu.Fingerprint)
}

func TestParseErrors(t *testing.T) {
	_, err := Parse(strings.NewReader("processor : 0\nmodel name : x\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no flags or Features line")

	_, err = Parse(strings.NewReader(""))
	require.Error(t, err)

	long := "flags : " + strings.Repeat("x", 2<<20) + "\n"
	_, err = Parse(strings.NewReader(long))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading cpuinfo")

	_, err = Read(filepath.Join(t.TempDir(), "none"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "none")

	p := filepath.Join(t.TempDir(), "cpuinfo")
	require.NoError(t, os.WriteFile(p, []byte("processor : 0\n"), 0o644))
	_, err = Read(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	assert.Contains(t, err.Error(), "no flags or Features line")

	require.NoError(t, os.WriteFile(p, []byte(long), 0o644))
	_, err = Read(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cpuid: reading "+p)
}

func TestFingerprintOfSetsAndEmpty(t *testing.T) {
	assert.Equal(t, Fingerprint([]string{"b", "a"}), Fingerprint([]string{"a", "b", "a"}))
	assert.Len(t, Fingerprint([]string{"a"}), 12)
	// sha256 of nothing: what the script prints for a CPU without any listed feature.
	assert.Equal(t, "e3b0c44298fc", Fingerprint(nil))
}

func TestFeatureList(t *testing.T) {
	fs := Features()
	require.NotEmpty(t, fs)
	names := map[string]string{}
	for _, f := range fs {
		names[f.Name] = f.Macro
	}
	// The features the brief of issue 11 names, with /proc/cpuinfo's spelling.
	for name, macro := range map[string]string{"avx2": "__AVX2__", "fma": "__FMA__", "f16c": "__F16C__",
		"avx512f": "__AVX512F__", "avx512bw": "__AVX512BW__", "avx512vl": "__AVX512VL__",
		"avx512_vnni": "__AVX512VNNI__", "avx512_bf16": "__AVX512BF16__", "avx512_fp16": "__AVX512FP16__",
		"avx_vnni": "__AVXVNNI__", "amx_tile": "__AMX_TILE__", "amx_int8": "__AMX_INT8__", "amx_bf16": "__AMX_BF16__"} {
		assert.Equal(t, macro, names[name], name)
	}
	fs[0].Name = "changed"
	assert.NotEqual(t, "changed", Features()[0].Name, "Features returns a copy")

	for text, want := range map[string]string{
		"avx2 __AVX2__ extra\n":             "line 1",
		"avx2 __AVX2__\n# c\navx2 __AVX2__": "line 3: avx2 listed twice",
		"# only a comment\n":                "no features listed",
	} {
		_, err := parseFeatureList(text)
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), want)
	}
}

func TestFromFlagsAndBuildFingerprint(t *testing.T) {
	assert.Equal(t, "3679ba7082f2", FromFlags("-O3 -march=native -DFAK_CPU_FINGERPRINT=3679ba7082f2"))
	assert.Equal(t, "b", FromFlags("-DFAK_CPU_FINGERPRINT=a -O2 -DFAK_CPU_FINGERPRINT=b"))
	assert.Empty(t, FromFlags("-O3 -march=native"))
	assert.Empty(t, FromFlags("-DFAK_CPU_FINGERPRINT_X=1"))

	set := func(c, cxx string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "CGO_ENABLED", Value: "1"}, {Key: "CGO_CFLAGS", Value: c}, {Key: "CGO_CXXFLAGS", Value: cxx}}
	}
	fp, err := BuildFingerprint(set("-O3 -DFAK_CPU_FINGERPRINT=abc", "-O3 -DFAK_CPU_FINGERPRINT=abc"))
	require.NoError(t, err)
	assert.Equal(t, "abc", fp)
	fp, err = BuildFingerprint(set("-O2 -g", "-O2 -g"))
	require.NoError(t, err)
	assert.Empty(t, fp)
	fp, err = BuildFingerprint(nil)
	require.NoError(t, err)
	assert.Empty(t, fp)

	_, err = BuildFingerprint(set("-DFAK_CPU_FINGERPRINT=abc", "-DFAK_CPU_FINGERPRINT=def"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"abc" but CGO_CXXFLAGS "def"`)
	_, err = BuildFingerprint(set("-DFAK_CPU_FINGERPRINT=abc", "-O3"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "different CPUs")

	_, err = BinaryFingerprint()
	assert.NoError(t, err, "a test binary's C and C++ flags come from one environment")
}

// script runs scripts/cpu_fingerprint.sh with args.
func script(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	out, err := exec.Command("bash", append([]string{filepath.Join("..", "..", "scripts", "cpu_fingerprint.sh")}, args...)...).Output()
	return strings.TrimSpace(string(out)), err
}

// The script and the package agree on this machine and on fixed inputs.
func TestScriptAgrees(t *testing.T) {
	if _, err := os.Stat(Path); err == nil {
		cpu, err := Current()
		require.NoError(t, err)
		got, err := script(t)
		require.NoError(t, err)
		assert.Equal(t, cpu.Fingerprint, got)
		names, err := script(t, "--features")
		require.NoError(t, err)
		assert.Equal(t, strings.Join(cpu.ISA, "\n"), names)
		t.Logf("this CPU: fingerprint %s, ISA %s", cpu.Fingerprint, strings.Join(cpu.ISA, " "))
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"x86": x86Info, "arm": armInfo, "none": "flags : fpu sse hypervisor\n"} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		cpu, err := Parse(strings.NewReader(text))
		require.NoError(t, err)
		got, err := script(t, p)
		require.NoError(t, err, name)
		assert.Equal(t, cpu.Fingerprint, got, name)
	}

	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("processor : 0\n"), 0o644))
	_, err := script(t, bad)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Contains(t, string(ee.Stderr), "no flags or Features line")
	_, err = script(t, "--bogus")
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 2, ee.ExitCode())
}
