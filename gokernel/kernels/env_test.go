package kernels

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/env"
)

// TestKernelChosenAtStartup runs this test binary again with FAK_KERNEL set
// (the variable is read once, at start-up): a set the CPU runs is used, an
// unknown name leaves the best set active and EnvError says why.
func TestKernelChosenAtStartup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the test binary again")
	}
	child := func(value string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestKernelStartupChild$", "-test.v")
		cmd.Env = append(os.Environ(), env.Kernel.Name+"="+value)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		for _, line := range strings.Split(string(out), "\n") {
			if s, ok := strings.CutPrefix(line, "startup: "); ok {
				return s
			}
		}
		require.Fail(t, "the child printed no startup line", "%s", out)
		return ""
	}
	assert.Equal(t, "generic <nil>", child("generic"))
	if slices.Contains(Available(), "amx") {
		assert.Equal(t, "amx <nil>", child("amx"))
	} else {
		got := child("amx")
		assert.True(t, strings.HasPrefix(got, Best()+" FAK_KERNEL=\"amx\" ignored"), got)
		assert.Contains(t, got, "cannot run on this CPU", "says why")
	}
	got := child("avx9000")
	assert.True(t, strings.HasPrefix(got, Best()+" FAK_KERNEL=\"avx9000\" ignored, using \""+Best()+"\""), got)
}

// TestKernelStartupChild prints what start-up chose; it only does so when
// TestKernelChosenAtStartup sets FAK_KERNEL for it.
func TestKernelStartupChild(t *testing.T) {
	if env.Kernel.Value() == "" {
		t.Skip("run by TestKernelChosenAtStartup")
	}
	fmt.Printf("startup: %s %v\n", Name(), EnvError())
}
