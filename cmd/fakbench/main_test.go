package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/report"
)

// cli runs the command line in-process and returns its exit code, stdout
// and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// cliOK runs the command line in-process, requires it to exit 0 (the
// output shown when it does not) and returns its stdout and stderr.
func cliOK(t *testing.T, args ...string) (string, string) {
	t.Helper()
	code, stdout, stderr := cli(t, args...)
	require.Equal(t, exitOK, code, "%q\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
	return stdout, stderr
}

// assertUsage runs the command line args and checks that it is refused as
// a usage or input error (exit 2) with each of want on stderr, and without
// a panic.
func assertUsage(t *testing.T, args []string, want ...string) {
	t.Helper()
	code, stdout, stderr := cli(t, args...)
	assert.Equal(t, exitUsage, code, "%q\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
	for _, w := range want {
		assert.Contains(t, stderr, w, "%q", args)
	}
	assert.NotContains(t, stderr, "panic", "%q", args)
}

// assertHelp checks that "fakbench <command> -h" exits 0 and prints each
// of want on stderr and nothing on stdout.
func assertHelp(t *testing.T, command string, want ...string) {
	t.Helper()
	code, stdout, stderr := cli(t, command, "-h")
	assert.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stdout)
	for _, w := range want {
		assert.Contains(t, stderr, w)
	}
}

// readJSON decodes the JSON file at path into a T.
func readJSON[T any](t *testing.T, path string) T {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var v T
	require.NoError(t, json.Unmarshal(data, &v), path)
	return v
}

func TestNoArgs(t *testing.T) {
	code, out, errs := cli(t)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "usage: fakbench <command> [flags]")
	for _, name := range []string{"run", "model", "compare"} {
		assert.Contains(t, errs, "\n  "+name+" ")
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		code, out, errs := cli(t, arg)
		assert.Equal(t, exitOK, code, arg)
		assert.Contains(t, out, "usage: fakbench <command> [flags]", arg)
		assert.Empty(t, errs, arg)
	}
	code, _, errs := cli(t, "help", "compare")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errs, "usage: fakbench compare [--out FILE] [--html FILE] DIR...")
	assert.Contains(t, errs, "-out file")

	assertUsage(t, []string{"help", "nosuch"}, `fakbench help: unknown command "nosuch"`)
}

func TestUnknownCommand(t *testing.T) {
	code, out, errs := cli(t, "frobnicate", "--x")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, `fakbench: unknown command "frobnicate"`)
	assert.Contains(t, errs, "usage: fakbench <command> [flags]")
}

func TestRegisterPanicsOnDuplicate(t *testing.T) {
	assert.Panics(t, func() { register(command{name: "compare", run: runCompare}) })
	assert.Panics(t, func() { register(command{name: "", run: runCompare}) })
	assert.Panics(t, func() { register(command{name: "x"}) })
}

func TestParseFlagsInterleaved(t *testing.T) {
	var errb bytes.Buffer
	fs := newFlagSet("t", "usage: t", &errb)
	n := fs.Int("n", 0, "a number")
	pos, code, ok := parseFlags(fs, []string{"a", "-n", "3", "b"}, -1)
	require.True(t, ok, errb.String())
	assert.Equal(t, exitOK, code)
	assert.Equal(t, []string{"a", "b"}, pos)
	assert.Equal(t, 3, *n)

	fs = newFlagSet("t", "usage: t", &errb)
	_, code, ok = parseFlags(fs, []string{"stray"}, 0)
	assert.False(t, ok)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errb.String(), `fakbench t: unexpected argument "stray": this command takes only flags`)

	errb.Reset()
	fs = newFlagSet("t", "usage: t", &errb)
	_, code, ok = parseFlags(fs, []string{"a", "b"}, 1)
	assert.False(t, ok)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errb.String(), `unexpected argument "b": at most 1 argument(s) expected`)

	errb.Reset()
	fs = newFlagSet("t", "usage: t", &errb)
	_, code, ok = parseFlags(fs, []string{"-h"}, 0)
	assert.False(t, ok)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errb.String(), "usage: t")
}

func TestSplitList(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "c"}, splitList(" a, b,,c ,"))
	assert.Nil(t, splitList(""))
}

func writeRun(t *testing.T, dir string, rs ...*report.Report) {
	t.Helper()
	for _, r := range rs {
		require.NoError(t, report.WriteJSON(filepath.Join(dir, r.Backend+".json"), r))
	}
}

func sampleReport(backend, kind string, decodeTPS float64) *report.Report {
	return &report.Report{
		Model: "m", Backend: backend, Mode: "live_prefix_reuse",
		ColdFullPrefill:   report.ColdPrefill{Tokens: 128, MS: 100, PromptTPS: 1280, TTFTMS: 100},
		WarmSamePrefix:    report.WarmSame{CachedTokens: 128, TTFTMS: 5, MS: 0.1, HitRate: 1},
		WarmChangedSuffix: report.WarmChanged{CachedTokens: 128, SuffixTokens: 16, MS: 10, TTFTMS: 10, OutputEqualsCold: true},
		EditedStable:      report.EditedStable{ExpectedCacheMiss: true, ActualCacheMiss: true, OutputEqualsCold: true},
		Decode:            report.Decode{OutputTokens: 16, TokensPerSec: decodeTPS},
		FailureCases:      report.FailureCases{OverContext: true, CancelDecode: true},
		Extras:            report.Extras{RowKind: kind, Status: report.StatusOK, BackendDisplay: adapters.Display(backend)},
	}
}

func TestCompare(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "before"), filepath.Join(base, "after")
	writeRun(t, a, sampleReport("llamacpp", report.KindTunedReference, 100), sampleReport("gokernel", report.KindKernel, 40))
	writeRun(t, b, sampleReport("llamacpp", report.KindTunedReference, 100), sampleReport("gokernel", report.KindKernel, 70))

	outFile := filepath.Join(base, "cmp", "compare.md")
	out, _ := cliOK(t, "compare", a, b, "--out", outFile)
	assert.Contains(t, out, "| decode tok/s | 100 | 40 | 100 | 70 | 0.40x | 0.70x | 50 % | higher |")
	assert.Contains(t, out, "before: gokernel / llama.cpp")
	data, err := os.ReadFile(outFile)
	require.NoError(t, err)
	assert.Equal(t, out, string(data))

	// Same base names: labelled by path.
	out, _ = cliOK(t, "compare", a, a+string(filepath.Separator))
	assert.Contains(t, out, "| metric | "+a+": llamacpp |")
}

func TestCompareErrors(t *testing.T) {
	assertUsage(t, []string{"compare"}, "fakbench compare: no run directory given")

	missing := filepath.Join(t.TempDir(), "nope")
	assertUsage(t, []string{"compare", missing}, missing)

	empty := t.TempDir()
	assertUsage(t, []string{"compare", empty}, "no backend report")

	assertUsage(t, []string{"compare", "--bogus", empty}, "flag provided but not defined: -bogus", "usage: fakbench compare")
}

// Every command has its help text, and the text starts with its usage line.
func TestEveryCommandHasHelp(t *testing.T) {
	require.NotEmpty(t, commands)
	for name, c := range commands {
		if c.summary == "" {
			continue // hidden
		}
		b, err := helpFiles.ReadFile("help/" + name + ".txt")
		require.NoError(t, err, "cmd/fakbench/help/%s.txt", name)
		assert.True(t, strings.HasPrefix(string(b), "usage: fakbench "+name), "help/%s.txt starts with its usage line", name)
	}
	assert.Equal(t, "usage: fakbench nope [flags]", synopsis("nope"))
}
