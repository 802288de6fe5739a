package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf/gguftest"
	"github.com/fakbench/fakbench/report"
)

func TestRunPromptFile(t *testing.T) {
	model := tinyModel(t)
	text := strings.Repeat("the stable prefix is the system prompt and the files ", 8) + "then a new turn asks something else entirely"
	prompt := filepath.Join(t.TempDir(), "prompt.txt")
	require.NoError(t, os.WriteFile(prompt, []byte(text), 0o644))
	out := filepath.Join(t.TempDir(), "run")
	cliOK(t, "run", "--backends", "testok", "--model", model, "--out", out, "--prompt-file", prompt,
		"--short", "--reps", "1", "--threads", "1", "--membw", "20")
	r, err := report.ReadJSON(filepath.Join(out, "testok.json"))
	require.NoError(t, err)
	require.NotNil(t, r.Scenario)
	sum := sha256.Sum256([]byte(text))
	assert.Equal(t, hex.EncodeToString(sum[:]), r.Scenario.PromptSHA256)
	assert.Equal(t, prompt, r.Scenario.PromptFile)
	assert.Equal(t, "llama", r.Scenario.Tokenizer)
	assert.Equal(t, 128, r.Scenario.StableTokens)
	assert.Empty(t, report.CorrectnessFailures(r))

	// The same run without the file draws other token IDs.
	out2 := filepath.Join(t.TempDir(), "run2")
	cliOK(t, "run", "--backends", "testok", "--model", model, "--out", out2, "--short", "--reps", "1", "--threads", "1", "--membw", "20")
	r2, err := report.ReadJSON(filepath.Join(out2, "testok.json"))
	require.NoError(t, err)
	assert.NotEqual(t, r.TokenDigest, r2.TokenDigest)
	assert.Empty(t, r2.Scenario.PromptSHA256)
}

func TestRunPromptFileErrors(t *testing.T) {
	model := tinyModel(t)
	short := filepath.Join(t.TempDir(), "short.txt")
	require.NoError(t, os.WriteFile(short, []byte("too short"), 0o644))
	good := filepath.Join(t.TempDir(), "good.txt")
	require.NoError(t, os.WriteFile(good, []byte(strings.Repeat("some words of text ", 40)), 0o644))
	for _, tc := range []struct {
		model, file, want string
	}{
		{model, filepath.Join(t.TempDir(), "missing.txt"), "missing.txt"},
		{model, short, "the scenarios need at least"},
		{gguftest.NoTokenizer(t, model), good, "has no tokenizer, so it takes token IDs only, not text"},
	} {
		code, _, errs := cli(t, "run", "--backends", "testok", "--model", tc.model, "--out", filepath.Join(t.TempDir(), "o"),
			"--prompt-file", tc.file, "--short", "--reps", "1", "--threads", "1", "--membw", "20")
		assert.Equal(t, exitUsage, code, errs)
		assert.Contains(t, errs, tc.want)
		assert.Contains(t, errs, "prompt", "the error names the prompt")
	}
}
