package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf/gguftest"
	"github.com/fakbench/fakbench/llamacpp"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/tokenizer"
)

func TestGenerateUsageErrors(t *testing.T) {
	model := tinyModel(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "hello"}, "missing --model"},
		{[]string{"generate", "--model", model}, "give the prompt text as one argument"},
		{[]string{"generate", "--model", model, "one", "two"}, "at most 1 argument(s) expected"},
		{[]string{"generate", "--model", model, "--tokens", "0", "hi"}, "--tokens must be at least 1, got 0"},
		{[]string{"generate", "--model", model, "--backends", "gokernel,nosuch", "hi"}, "--backends"},
		{[]string{"generate", "--model", model, "--backends", "", "hi"}, "--backends names no backend"},
		{[]string{"generate", "--model", model, "--tokens", "x", "hi"}, "invalid value \"x\" for flag -tokens"},
		{[]string{"generate", "--model", gguftest.NoTokenizer(t, model), "--backends", "gokernel", "hi"}, "has no tokenizer, so it takes token IDs only, not text"},
		{[]string{"generate", "--model", filepath.Join(t.TempDir(), "none.gguf"), "hi"}, "none.gguf"},
		{[]string{"generate", "--model", model, "--backends", "gokernel", "--tokens", "100000", "hi"}, "over"},
	} {
		assertUsage(t, tc.args, tc.want)
	}
	assertHelp(t, "generate", "usage: fakbench generate --model MODEL", "-require-agreement")
}

// Two backends that compute different things: the output says so, exit 0,
// or 1 with --require-agreement. testok is the conformance kit's fake
// (vocabulary 512, like the tiny model's), testgone never available.
func TestGenerateDisagreementAndSkippedRow(t *testing.T) {
	model := tinyModel(t)
	args := []string{"generate", "--model", model, "--backends", "gokernel,testok,testgone", "--tokens", "4", "--threads", "1", "abc"}
	out, _ := cliOK(t, args...)
	assert.Contains(t, out, "tokenizer  llama")
	assert.Contains(t, out, "gokernel")
	assert.Contains(t, out, "testgone  skipped: backend testgone unavailable")
	assert.Contains(t, out, "the backends disagree: testok differs from gokernel from token")

	code, _, _ := cli(t, append([]string{"generate", "--require-agreement"}, args[1:]...)...)
	assert.Equal(t, exitFailed, code)

	out, _ = cliOK(t, "generate", "--require-agreement", "--model", model, "--backends", "gokernel", "--tokens", "4", "--threads", "1", "abc")
	assert.Contains(t, out, "1 backend(s) ran: nothing to compare")
}

// The real model through llama.cpp (and the Go kernel, which must agree
// with it): text in, text out.
func TestGenerateRealModelEndToEnd(t *testing.T) {
	path, err := models.RealPath("smollm2")
	if err != nil {
		t.Skipf("real:smollm2 is absent (make setup fetches it): %v", err)
	}
	if err := llamacpp.Available(); err != nil {
		t.Skipf("llama.cpp is not available here: %v", err)
	}
	code, out, errs := cli(t, "generate", "--model", "real:smollm2", "--backends", "llamacpp,gokernel", "--tokens", "8", "--threads", "2",
		"--require-agreement", "The capital of France is")
	t.Logf("stdout:\n%s", out)
	if code == exitUsage && strings.Contains(errs, "open gokernel") {
		t.Logf("the Go kernel cannot open the file yet (%s); llama.cpp alone", strings.TrimSpace(errs))
		code, out, errs = cli(t, "generate", "--model", "real:smollm2", "--backends", "llamacpp", "--tokens", "8", "--threads", "2", "The capital of France is")
	}
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errs)
	assert.Contains(t, out, "tokenizer  gpt2/smollm")
	tk, err := tokenizer.Open(path)
	require.NoError(t, err)
	defer tk.Close()
	ids, err := tk.Encode("The capital of France is", true)
	require.NoError(t, err)
	assert.Contains(t, out, fmt.Sprintf("%d tokens %v", len(ids), ids), "the prompt went through the model's tokenizer")
	assert.Contains(t, out, "Paris", "SmolLM2 knows the capital of France: the text went in and came out right")
}
