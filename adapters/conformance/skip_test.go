package conformance_test

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/transport"
)

// kitChild is set only in the child process TestKitSkip starts: it makes
// TestKitSkipChild run the kit with Options.Skip set to its comma-separated
// names, so the parent can read how go test reports each check.
var kitChild = flag.String("conformance.kit-child", "", "internal: the Options.Skip list TestKitSkipChild runs the kit with (set by TestKitSkip)")

// TestKitSkipChild is TestKitSkip's child; on its own it skips.
func TestKitSkipChild(t *testing.T) {
	if *kitChild == "" {
		t.Skip("runs only in the child process TestKitSkip starts")
	}
	conformance.Run(t, openFake(fake.Config{}), conformance.Options{Skip: strings.Split(*kitChild, ",")})
}

// runKitChild runs TestKitSkipChild in a child test process with skip as
// Options.Skip, and returns its verbose output and whether it passed.
func runKitChild(t *testing.T, skip ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKitSkipChild$", "-test.v", "-test.count=1",
		"-conformance.kit-child="+strings.Join(skip, ","))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err, "starting the child test process")
	}
	return string(out), err == nil
}

// assertSkipped checks go test's verbose report of check name in the
// child's output: skipped, with the reason Options.Skip gives.
func assertSkipped(t *testing.T, out, name string) {
	t.Helper()
	assert.Regexp(t, `=== RUN\s+TestKitSkipChild/`+name+`\n\s+\w+\.go:\d+: skipped by Options\.Skip\n`, out, "check %s", name)
	assert.Contains(t, out, "--- SKIP: TestKitSkipChild/"+name+" (", "check %s", name)
}

// A skipped check is reported as skipped and not run; an unknown name in
// Options.Skip is an error.
func TestKitSkip(t *testing.T) {
	var names []string
	for _, c := range conformance.Checks() {
		names = append(names, c.Name)
	}
	var opened []string
	counting := func(cfg fake.Config) func(t *testing.T) transport.Backend {
		return func(t *testing.T) transport.Backend {
			opened = append(opened, t.Name())
			return openFake(cfg)(t)
		}
	}

	// Not run: on a backend every check would fail, skipping them all
	// passes, and no check so much as opens the backend.
	t.Run("all", func(t *testing.T) {
		conformance.Run(t, counting(fake.Config{Bugs: fake.Bugs{NoReuse: true, WarmDiverges: true,
			IgnoreCancel: true, UntypedOverContext: true, CloseNotIdempotent: true, AcceptEmptySuffix: true,
			NoVocabCheck: true, SharedCache: true}}), conformance.Options{Skip: names})
	})
	assert.Empty(t, opened, "skipped checks opened the backend")

	// Skipping all but one runs that one alone.
	opened = nil
	rest := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "PrefixHit" })
	t.Run("all but one", func(t *testing.T) {
		conformance.Run(t, counting(fake.Config{}), conformance.Options{Skip: rest})
	})
	assert.Equal(t, []string{t.Name() + "/all_but_one/PrefixHit"}, opened)

	// Reported as skipped, with the reason; the others pass.
	out, ok := runKitChild(t, "Cancel", "TwoSessions")
	assert.True(t, ok, "skipping two checks on a correct backend passes:\n%s", out)
	assertSkipped(t, out, "Cancel")
	assertSkipped(t, out, "TwoSessions")
	assert.Contains(t, out, "--- PASS: TestKitSkipChild/PrefixHit (")

	// An unknown name fails the test, naming it; the known one is still skipped.
	out, ok = runKitChild(t, "Cancel", "Cancle")
	assert.False(t, ok, "an unknown name in Options.Skip must fail:\n%s", out)
	assert.Contains(t, out, `conformance: Options.Skip names "Cancle", which is not a check`)
	assert.Contains(t, out, "--- FAIL: TestKitSkipChild (")
	assertSkipped(t, out, "Cancel")
}
