package sabotage_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	_ "github.com/fakbench/fakbench/adapters/all" // registers the backends
	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/adapters/conformance/sabotage"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// caughtBy names, per kind, the report flag that must fail (a prefix of
// one of report.CorrectnessFailures).
var caughtBy = map[sabotage.Kind]string{
	sabotage.ReuseOneTooMany:       "edited_stable_segment.actual_cache_miss",
	sabotage.DropLastPrefixToken:   "warm_changed_suffix.output_equals_cold",
	sabotage.SkipEdit:              "edited_stable_segment.actual_cache_miss",
	sabotage.ReuseWhileRecomputing: "warm_same_prefix",
	sabotage.StaleKVAfterEdit:      "edited_stable_segment.output_equals_cold",
}

// open opens backend on the model spec; a real model that was not
// fetched, or llama.cpp not compiled in, skips (unless FAK_REQUIRE_LLAMACPP).
func open(t *testing.T, backend, spec string) transport.Backend {
	t.Helper()
	ctx := context.Background()
	m, err := models.Resolve(ctx, spec, io.Discard)
	if err != nil && strings.HasPrefix(spec, "real:") {
		t.Skipf("real model not fetched (run make setup): %v", err)
	}
	require.NoError(t, err)
	b, err := adapters.Open(ctx, backend, adapters.Options{ModelPath: m.Path, Threads: 2})
	if transport.IsUnavailable(err) {
		env.RequireLlamacpp.SkipIfMissing(t, err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func run(t *testing.T, b transport.Backend) *report.Report {
	t.Helper()
	params, err := harness.ParamsFor(true, 1, b.Info())
	require.NoError(t, err)
	sc, err := harness.BuildScenario(params)
	require.NoError(t, err)
	rep, err := harness.Run(context.Background(), b, sc, harness.Config{Short: true, Reps: 1, Warmup: -1, Threads: 2})
	require.NoError(t, err)
	return rep
}

// Every sabotage is flagged by the harness, on the default synthetic
// model (the Go kernel) and on the real one (llama.cpp: the Go kernel does
// not run its q4_1 weights yet), while the honest backend passes with its
// logit comparisons recorded.
func TestHarnessFlagsEverySabotage(t *testing.T) {
	for _, c := range []struct{ backend, spec string }{
		{"gokernel", "synthetic:smol135m-untied:q8_0"},
		{"llamacpp", "real:smollm2"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			b := open(t, c.backend, c.spec)
			honest := run(t, b)
			require.Empty(t, report.CorrectnessFailures(honest), honest.Notes)
			require.NotNil(t, honest.WarmChangedSuffix.Logits)
			assert.True(t, honest.WarmChangedSuffix.Logits.Compared)
			assert.True(t, honest.EditedStable.Power.Discriminating)
			assert.True(t, honest.WarmChangedSuffix.Power.Discriminating)
			for _, k := range sabotage.Kinds() {
				t.Run(string(k), func(t *testing.T) {
					fails := report.CorrectnessFailures(run(t, sabotage.Wrap(b, k)))
					require.NotEmpty(t, fails, "sabotage %s passed every check", k)
					found := false
					for _, f := range fails {
						found = found || strings.HasPrefix(f, caughtBy[k])
					}
					assert.True(t, found, "sabotage %s: want a failure of %s, got %q", k, caughtBy[k], fails)
				})
			}
		})
	}
}

// Every sabotage fails at least one check of the conformance kit.
func TestKitCatchesEverySabotage(t *testing.T) {
	b := open(t, "gokernel", "synthetic:smol135m-untied:q8_0")
	for _, k := range sabotage.Kinds() {
		t.Run(string(k), func(t *testing.T) {
			var failed []string
			for _, c := range conformance.Checks() {
				if c.Name == "BackendClose" {
					continue // closes the shared backend
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				if err := c.Run(ctx, sabotage.Wrap(b, k), conformance.Options{}); err != nil {
					failed = append(failed, c.Name+": "+err.Error())
				}
				cancel()
			}
			assert.NotEmpty(t, failed, "sabotage %s passed the whole kit", k)
			t.Logf("%s caught by: %s", k, strings.Join(failed, "\n  "))
		})
	}
}
