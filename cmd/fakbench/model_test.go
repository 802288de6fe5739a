package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/llamacpp"
	"github.com/fakbench/fakbench/models"
)

func TestModelGenDigestStable(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "sub", "b.gguf")
	outA, _ := cliOK(t, "model", "gen", "--preset", "tiny", "--type", "q8_0", "--out", a)
	outB, _ := cliOK(t, "model", "gen", "--out", b, "--type", "q8_0", "--preset", "tiny")

	fa, fb := strings.Split(strings.TrimSpace(outA), "\t"), strings.Split(strings.TrimSpace(outB), "\t")
	require.Len(t, fa, 4, outA)
	require.Len(t, fb, 4, outB)
	assert.Equal(t, a, fa[0])
	assert.Equal(t, fa[1:], fb[1:], "same preset and type: same size, digest and spec")
	assert.Equal(t, "synthetic:tiny:q8_0", fa[3])

	da, err := models.FileDigest(a)
	require.NoError(t, err)
	assert.Equal(t, da, fa[2], "the printed digest is the file's")
	ba, err := os.ReadFile(a)
	require.NoError(t, err)
	bb, err := os.ReadFile(b)
	require.NoError(t, err)
	assert.Equal(t, ba, bb)

	// Another type gives other bytes.
	c := filepath.Join(dir, "c.gguf")
	outC, _ := cliOK(t, "model", "gen", "--preset", "tiny", "--type", "f16", "--out", c)
	assert.NotEqual(t, fa[2], strings.Split(outC, "\t")[2])
}

func TestModelGenErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.gguf")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"model"}, "missing subcommand: gen, info, quantize"},
		{[]string{"model", "train"}, `unknown subcommand "train"`},
		{[]string{"model", "gen", "--out", out}, "missing --preset (one of llama1b-untied, smol135m-untied, tiny)"},
		{[]string{"model", "gen", "--preset", "tiny"}, "or --out (the .gguf file to write)"},
		{[]string{"model", "gen", "--preset", "huge", "--out", out}, `--preset, --type: model spec "synthetic:huge:f32": unknown synthetic preset "huge"`},
		{[]string{"model", "gen", "--preset", "tiny", "--type", "q4_0", "--out", out}, `unknown weight type "q4_0"`},
		{[]string{"model", "gen", "--preset", "tiny", "--out", out, "extra"}, `unexpected argument "extra"`},
		{[]string{"model", "gen", "--size", "1"}, "flag provided but not defined: -size"},
		{[]string{"model", "info"}, "name one model"},
		{[]string{"model", "info", "a.gguf", "b.gguf"}, `unexpected argument "b.gguf"`},
	}
	for _, c := range cases {
		assertUsage(t, c.args, c.want)
	}
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err))

	// The output's directory cannot be created.
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	assertUsage(t, []string{"model", "gen", "--preset", "tiny", "--out", filepath.Join(blocker, "m.gguf")}, blocker)

	assertHelp(t, "model", "usage: fakbench model gen")
}

func TestModelInfo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	genOut, _ := cliOK(t, "model", "gen", "--preset", "tiny", "--type", "q8_0", "--out", path)
	digest := strings.Split(genOut, "\t")[2]

	out, _ := cliOK(t, "model", "info", path)
	for _, want := range []string{
		"file:          " + path,
		"digest:        " + digest,
		"architecture:  llama",
		"llama.block_count",
		"llama.embedding_length",
		"llama.context_length",
		"tokenizer:     llama, 512 tokens",
		"tensors:       ",
		"q8_0 ",
		"f32 ",
	} {
		assert.Contains(t, out, want)
	}

	// A spec works too (generated into the cache).
	t.Setenv("FAK_CACHE_DIR", t.TempDir())
	out, errs := cliOK(t, "model", "info", "synthetic:tiny:q8_0")
	assert.Contains(t, out, "spec:          synthetic:tiny:q8_0")
	assert.Contains(t, out, "digest:        "+digest, "the cached model is the same bytes")
	assert.Contains(t, errs, "generating synthetic:tiny:q8_0")
}

// The old preset names are aliases: gen and info say so and why, and give
// the file of the current name.
func TestModelAlias(t *testing.T) {
	t.Setenv("FAK_CACHE_DIR", t.TempDir())
	oldInfo, _ := cliOK(t, "model", "info", "synthetic:smol135m:q8_0")
	assert.Contains(t, oldInfo, "spec:          synthetic:smol135m:q8_0\n")
	assert.Contains(t, oldInfo, "preset:        smol135m-untied: the shape of SmolLM2-135M except output head untied")
	assert.Contains(t, oldInfo, "alias:         preset smol135m is an alias of smol135m-untied, renamed to say that it is not SmolLM2-135M's exact shape")
	assert.Contains(t, oldInfo, "context length 2048 (SmolLM2-135M: 8192)")
	curInfo, errs := cliOK(t, "model", "info", "synthetic:smol135m-untied:q8_0")
	assert.NotContains(t, curInfo, "alias:")
	assert.NotContains(t, errs, "generating", "the old name's cached file is the new name's")
	digestLine := func(info string) string {
		for _, l := range strings.Split(info, "\n") {
			if strings.HasPrefix(l, "digest:") {
				return l
			}
		}
		return ""
	}
	require.NotEmpty(t, digestLine(oldInfo))
	assert.Equal(t, digestLine(oldInfo), digestLine(curInfo))

	out := filepath.Join(t.TempDir(), "smol.gguf")
	gen, errs := cliOK(t, "model", "gen", "--preset", "smol135m", "--type", "q8_0", "--out", out)
	assert.Equal(t, models.AliasNote("smol135m"), errs)
	fields := strings.Split(strings.TrimSpace(gen), "\t")
	require.Len(t, fields, 4, gen)
	assert.Equal(t, "synthetic:smol135m-untied:q8_0", fields[3])
	assert.Equal(t, "digest:        "+fields[2], digestLine(oldInfo), "gen writes the cached file's bytes")

	gen, errs = cliOK(t, "model", "gen", "--preset", "smol135m-untied", "--type", "q8_0", "--out", filepath.Join(t.TempDir(), "m.gguf"))
	assert.Empty(t, errs, "no note for the current name")
	assert.Equal(t, fields[1:], strings.Split(strings.TrimSpace(gen), "\t")[1:], "both names: the same size, digest and spec")
}

func TestModelInfoBadFiles(t *testing.T) {
	dir := t.TempDir()
	assertUsage(t, []string{"model", "info", filepath.Join(dir, "missing.gguf")}, "missing.gguf")

	garbage := filepath.Join(dir, "garbage.gguf")
	require.NoError(t, os.WriteFile(garbage, []byte("GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"), 0o644))
	assertUsage(t, []string{"model", "info", garbage}, "bad model file "+garbage)

	assertUsage(t, []string{"model", "info", dir}, "not a regular file")
}

func TestModelQuantize(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "tiny-f16.gguf")
	cliOK(t, "model", "gen", "--preset", "tiny", "--type", "f16", "--out", in)
	out := filepath.Join(dir, "tiny-q4_0.gguf")
	code, stdout, errs := cli(t, "model", "quantize", in, out, "--type", "q4_0", "--threads", "1")
	if llamacpp.Available() != nil {
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, errs, "quantizing needs llama.cpp's quantizer")
		t.Skip("llama.cpp not compiled in")
	}
	require.Equal(t, exitOK, code, errs)
	fields := strings.Split(strings.TrimSpace(stdout), "\t")
	require.Len(t, fields, 4, stdout)
	st, err := os.Stat(out)
	require.NoError(t, err)
	digest, err := models.FileDigest(out)
	require.NoError(t, err)
	assert.Equal(t, []string{out, fmt.Sprintf("%d bytes", st.Size()), digest, "q4_0"}, fields)

	// The file is what models makes of synthetic:tiny:q4_0 (the same
	// quantizer on the same f16 bytes), whatever the thread count.
	t.Setenv("FAK_CACHE_DIR", t.TempDir())
	m, err := models.Resolve(context.Background(), "synthetic:tiny:q4_0", nil)
	require.NoError(t, err)
	assert.Equal(t, m.Digest, digest)

	stdout, _ = cliOK(t, "model", "info", out)
	assert.Contains(t, stdout, "q4_0 ")
}

func TestModelQuantizeErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.gguf")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"model", "quantize", "in.gguf", "--type", "q4_0"}, "name the input and the output file"},
		{[]string{"model", "quantize", "a", "b", "c", "--type", "q4_0"}, `unexpected argument "c"`},
		{[]string{"model", "quantize", "in.gguf", out}, `unknown quantization type "" (known: f32, f16, q4_0,`},
		{[]string{"model", "quantize", "in.gguf", out, "--type", "q4_k"}, `unknown quantization type "q4_k"`},
		{[]string{"model", "quantize", "in.gguf", out, "--type", "q4_0", "--threads", "-1"}, "threads -1 is negative"},
		{[]string{"model", "quantize", "in.gguf", out, "--type", "q4_0", "--threads", "x"}, `invalid value "x" for flag -threads`},
	}
	for _, c := range cases {
		assertUsage(t, c.args, c.want)
	}
	if llamacpp.Available() != nil {
		t.Skip("llama.cpp not compiled in")
	}
	missing := filepath.Join(dir, "missing.gguf")
	assertUsage(t, []string{"model", "quantize", missing, out, "--type", "q4_0"}, missing)
	garbage := filepath.Join(dir, "garbage.gguf")
	require.NoError(t, os.WriteFile(garbage, []byte("GGUF\x03\x00\x00\x00"), 0o644))
	assertUsage(t, []string{"model", "quantize", garbage, out, "--type", "q4_0"}, "bad model file "+garbage)
	assert.NoFileExists(t, out)
}
