package buildisa

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/cpuid"
)

// The header checks exactly the macros of isa_features.txt, in its order,
// and names each feature as the list does.
func TestHeaderMatchesFeatureList(t *testing.T) {
	h, err := os.ReadFile("buildisa.h")
	require.NoError(t, err)
	re := regexp.MustCompile(`#ifdef (\w+)\n\s*" (\w+)"\n#endif`)
	var got []cpuid.Feature
	for _, m := range re.FindAllStringSubmatch(string(h), -1) {
		got = append(got, cpuid.Feature{Name: m[2], Macro: m[1]})
	}
	assert.Equal(t, cpuid.Features(), got)
}

func TestBuildMethods(t *testing.T) {
	b := Build{C: []string{"avx2", "fma"}, CXX: []string{"amx_tile", "avx2"}, CFingerprint: "a", CXXFingerprint: "a"}
	assert.Equal(t, []string{"amx_tile", "avx2", "fma"}, b.Targeted())
	assert.Equal(t, "a", b.Fingerprint())
	b.CXXFingerprint = "b"
	assert.Equal(t, "c=a c++=b", b.Fingerprint())
	assert.Empty(t, Build{}.Targeted())
	assert.Empty(t, Build{}.Fingerprint())
	assert.Nil(t, fields(" "))
	assert.Equal(t, []string{"avx", "fma"}, fields(" avx fma"))
}

// goEnv is `go env NAME`: the value the go command compiled this package
// with (its default when the environment does not set it).
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// What Read reports equals what the compilers predefine for the flags this
// test was built with, and this CPU (which is running the test) has it all.
func TestReadMatchesCompilers(t *testing.T) {
	b := Read()
	if !b.Compiled {
		assert.Empty(t, b.Targeted())
		t.Skip("built without cgo: no native code")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	for _, c := range []struct {
		lang, compiler, flags string
		got                   []string
		fp                    string
	}{
		{"c", goEnv(t, "CC"), goEnv(t, "CGO_CFLAGS"), b.C, b.CFingerprint},
		{"c++", goEnv(t, "CXX"), goEnv(t, "CGO_CXXFLAGS"), b.CXX, b.CXXFingerprint},
	} {
		args := append(strings.Fields(c.compiler), strings.Fields(c.flags)...)
		args = append(args, "-x", c.lang, "-dM", "-E", os.DevNull)
		out, err := exec.Command(args[0], args[1:]...).Output()
		require.NoError(t, err, "%v", args)
		defined := map[string]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "#define" {
				defined[f[1]] = true
			}
		}
		var want []string
		for _, f := range cpuid.Features() {
			if defined[f.Macro] {
				want = append(want, f.Name)
			}
		}
		assert.Equal(t, want, c.got, "%s with %q", c.lang, c.flags)
		assert.Equal(t, cpuid.FromFlags(c.flags), c.fp, c.lang)
		t.Logf("%s (%s): %s; fingerprint %q", c.lang, c.flags, strings.Join(c.got, " "), c.fp)
	}
	cpu, err := cpuid.Current()
	if err != nil {
		t.Skipf("cannot read this CPU's features: %v", err)
	}
	assert.Empty(t, cpu.Missing(b.Targeted()), "names are spelled as /proc/cpuinfo spells them")
}
