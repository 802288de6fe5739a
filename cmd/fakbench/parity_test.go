package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/llamacpp"
)

// requireLlamacpp skips a test that needs llama.cpp compiled in, or fails
// it when FAK_REQUIRE_LLAMACPP=1.
func requireLlamacpp(t *testing.T) {
	t.Helper()
	env.RequireLlamacpp.SkipIfMissing(t, llamacpp.Available())
}

func TestParityAgreesAndWritesJSON(t *testing.T) {
	requireLlamacpp(t)
	for _, typ := range []string{"f32", "q8_0"} {
		t.Run(typ, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "sub", "parity.json")
			stdout, _ := cliOK(t, "parity", "--model", "synthetic:tiny:"+typ, "--backends", "gokernel,llamacpp",
				"--steps", "32", "--threads", "1", "--json", out)
			assert.Contains(t, stdout, "parity gokernel vs llamacpp on synthetic:tiny:"+typ)
			assert.Contains(t, stdout, "32/32 steps")
			assert.Contains(t, stdout, "AGREE")

			f := readJSON[bench.ParityFile](t, out)
			assert.Equal(t, "agree", f.Verdict)
			assert.Empty(t, f.Reasons)
			assert.Equal(t, "synthetic:tiny:"+typ, f.Model)
			assert.Contains(t, f.ModelDigest, "sha256:")
			assert.Len(t, f.PromptIDs, 16)
			assert.Equal(t, 32, f.Result.GreedyAgree)
			assert.Equal(t, -1, f.Result.FirstDivergence)
			assert.True(t, f.Result.LogitsCompared)
			assert.Greater(t, f.Result.MinCosine, 0.999)
			assert.Equal(t, "llamacpp", f.Result.BackendB)
			assert.Equal(t, "1", f.SettingsB["threads"])
			assert.Contains(t, f.Command, "fakbench parity --model synthetic:tiny:"+typ)
			res := readJSON[map[string]any](t, out)["result"].(map[string]any)
			for _, k := range []string{"max_abs_logit_diff", "cosine_last", "min_cosine", "greedy_agree", "first_divergence"} {
				assert.Contains(t, res, k)
			}
		})
	}
}

func TestParityThresholdFailureExitsOne(t *testing.T) {
	requireLlamacpp(t)
	// Two engines never produce bit-identical q8_0 logits (llama.cpp
	// quantises activations, the Go kernel does not), so a bound of 1e-12
	// must fail, with the reason given.
	out := filepath.Join(t.TempDir(), "p.json")
	code, stdout, _ := cli(t, "parity", "--model", "synthetic:tiny:q8_0", "--steps", "4", "--threads", "1",
		"--max-diff", "1e-12", "--json", out)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stdout, "DISAGREE")
	assert.Contains(t, stdout, "max abs logit diff")
	f := readJSON[bench.ParityFile](t, out)
	assert.Equal(t, "disagree", f.Verdict)
	require.Len(t, f.Reasons, 1)
}

func TestParityUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.gguf")
	require.NoError(t, os.WriteFile(bad, []byte("not a model"), 0o644))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"parity"}, "missing --model"},
		{[]string{"parity", "--model", "synthetic:tiny", "--backends", "gokernel"}, "exactly two backends"},
		{[]string{"parity", "--model", "synthetic:tiny", "--backends", "gokernel,gokernel"}, "twice"},
		{[]string{"parity", "--model", "synthetic:tiny", "--backends", "gokernel,nosuch"}, `unknown backend "nosuch"`},
		{[]string{"parity", "--model", "synthetic:tiny", "--steps", "0"}, "--steps must be at least 1"},
		{[]string{"parity", "--model", "synthetic:tiny", "--threads", "-2"}, "--threads must not be negative"},
		{[]string{"parity", "--model", "synthetic:tiny", "--prompt", "0"}, "--prompt must be at least 1"},
		{[]string{"parity", "--model", "synthetic:tiny", "--min-cosine", "1.5"}, "--min-cosine must be in [0, 1]"},
		{[]string{"parity", "--model", "synthetic:tiny", "--max-diff", "-1"}, "--max-diff must not be negative"},
		{[]string{"parity", "--model", "synthetic:nosuch"}, "nosuch"},
		{[]string{"parity", "--model", bad}, bad},
		{[]string{"parity", "--model", "synthetic:tiny", "stray"}, `unexpected argument "stray"`},
		{[]string{"parity", "--bogus"}, "flag provided but not defined"},
		{[]string{"parity", "--model", "synthetic:tiny", "--steps", "100000"}, "over context"},
	}
	for _, tc := range cases {
		assertUsage(t, tc.args, tc.want)
	}
	assertHelp(t, "parity", "usage: fakbench parity --model MODEL")
}
