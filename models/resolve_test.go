package models

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/transport"
)

func TestPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FAK_CACHE_DIR", filepath.Join(dir, "cache"))

	p, err := Path("synthetic:tiny")
	require.NoError(t, err)
	assert.FileExists(t, p)
	_, err = Path("synthetic:tiny:q4_9")
	assert.ErrorContains(t, err, `unknown weight type "q4_9" (want f32, f16, q8_0, or a type llama.cpp quantizes to: q4_0,`)

	file := filepath.Join(dir, "m.gguf")
	require.NoError(t, os.WriteFile(file, []byte("GGUF"), 0o644))
	got, err := Path(file)
	require.NoError(t, err)
	assert.Equal(t, file, got)

	missing := filepath.Join(dir, "absent.gguf")
	_, err = Path(missing)
	require.Error(t, err)
	assert.True(t, transport.IsBadModel(err))
	assert.Contains(t, err.Error(), missing)

	_, err = Path(dir)
	assert.True(t, transport.IsBadModel(err))
	assert.ErrorContains(t, err, "not a regular file")

	_, err = Path("nonsense")
	assert.ErrorContains(t, err, `model "nonsense": no such file, and not a spec`)
	_, err = Path("")
	assert.ErrorContains(t, err, "empty model spec")

	_, err = Path("real:llama70b")
	assert.ErrorContains(t, err, `unknown real model "llama70b" (known: real:smollm2)`)

	models := filepath.Join(dir, "models")
	require.NoError(t, os.MkdirAll(models, 0o755))
	t.Setenv("FAK_MODELS_DIR", models)
	t.Chdir(dir) // no .cache/models above the temp dir
	_, err = Path("real:smollm2")
	assert.ErrorContains(t, err, "run `make setup`")
	assert.ErrorContains(t, err, filepath.Join(models, RealModels["smollm2"]))
	real := filepath.Join(models, RealModels["smollm2"])
	require.NoError(t, os.WriteFile(real, []byte("GGUF"), 0o644))
	got, err = Path("real:smollm2")
	require.NoError(t, err)
	assert.Equal(t, real, got)

	// Without FAK_MODELS_DIR the working directory's .cache/models is found.
	t.Setenv("FAK_MODELS_DIR", "")
	local := filepath.Join(dir, "proj", ".cache", "models")
	require.NoError(t, os.MkdirAll(local, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(local, RealModels["smollm2"]), []byte("GGUF"), 0o644))
	sub := filepath.Join(dir, "proj", "a", "b")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	t.Chdir(sub)
	got, err = Path("real:smollm2")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(local, RealModels["smollm2"]), got)
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FAK_CACHE_DIR", filepath.Join(dir, "cache"))
	ctx := context.Background()

	// A synthetic spec: generated on first use, with a line on progress.
	var progress bytes.Buffer
	m, err := Resolve(ctx, "synthetic:tiny:q8_0", &progress)
	require.NoError(t, err)
	assert.Contains(t, progress.String(), "fakbench: generating synthetic:tiny:q8_0 into the cache "+filepath.Join(dir, "cache"))
	assert.Equal(t, "synthetic:tiny:q8_0", m.Spec)
	assert.Equal(t, CachePath(Spec{"tiny", kernels.TypeQ8_0}), m.Path)
	assert.Equal(t, "fakbench synthetic tiny", m.Name)
	digest, err := FileDigest(m.Path)
	require.NoError(t, err)
	assert.Equal(t, digest, m.Digest)
	st, err := os.Stat(m.Path)
	require.NoError(t, err)
	assert.Equal(t, st.Size(), m.Size)
	assert.Positive(t, m.DecodeBytes)
	progress.Reset()
	again, err := Resolve(ctx, "synthetic:tiny:q8_0", &progress)
	require.NoError(t, err)
	assert.Equal(t, m, again)
	assert.Empty(t, progress.String(), "a cached model is not generated again")

	// A path: the name falls back to the file's base name.
	w := gguf.NewWriter()
	require.NoError(t, w.AddKV("general.architecture", "llama"))
	unnamed := filepath.Join(dir, "unnamed.gguf")
	require.NoError(t, w.WriteFile(unnamed))
	m, err = Resolve(ctx, unnamed, &progress)
	require.NoError(t, err)
	assert.Equal(t, unnamed, m.Path)
	assert.Equal(t, "unnamed", m.Name)

	// A spec that names no file is a *SpecError.
	_, err = Resolve(ctx, "synthetic:huge", &progress)
	var se *SpecError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "synthetic:huge", se.Spec)
	assert.ErrorContains(t, err, `unknown synthetic preset "huge"`)
	assert.False(t, transport.IsBadModel(err))

	// A file that is not GGUF is a bad model naming it, as the backends
	// report one.
	garbage := filepath.Join(dir, "garbage.gguf")
	require.NoError(t, os.WriteFile(garbage, []byte("not a GGUF file at all"), 0o644))
	_, err = Resolve(ctx, garbage, &progress)
	var bm *transport.BadModelError
	require.ErrorAs(t, err, &bm)
	assert.Equal(t, garbage, bm.File)
	assert.ErrorContains(t, err, "bad model file "+garbage)

	// A cancelled context stops before anything is generated.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Resolve(cctx, "synthetic:smol135m-untied", &progress)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NoFileExists(t, CachePath(Spec{"smol135m-untied", kernels.TypeF32}))
}
