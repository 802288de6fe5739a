package gokernel

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/transport"
)

func TestKernelsOptionSwitchesAndRestores(t *testing.T) {
	ctx := context.Background()
	path, _, _ := tinyFile(t, kernels.TypeQ8_0)
	before := kernels.Name()

	b, err := Open(ctx, adapters.Options{ModelPath: path, Threads: 1, Extra: map[string]string{ExtraKernels: "generic"}})
	require.NoError(t, err)
	assert.Equal(t, "generic", kernels.Name(), "the generic set is active while the backend is open")
	assert.Equal(t, "generic", b.Settings()["kernels"])
	assert.Equal(t, "", b.Settings()["isa"], "the pure-Go set uses no SIMD feature")
	assert.Contains(t, b.Version(), "gokernel/generic")

	// The backend still computes while switched.
	s, err := b.NewSession(ctx)
	require.NoError(t, err)
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: testTokens(20, 512, 5)})
	require.NoError(t, err)
	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: testTokens(2, 512, 6)})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	require.NoError(t, b.Close())
	assert.Equal(t, before, kernels.Name(), "Close restores the set active before Open")
	// A second Close does not switch again, even if the set changed since.
	if before != "generic" {
		require.NoError(t, kernels.Use("generic"))
		require.NoError(t, b.Close())
		assert.Equal(t, "generic", kernels.Name(), "Close is idempotent: no second restore")
		require.NoError(t, kernels.Use(before))
	}

	// Without the option the set is left alone.
	b2, err := Open(ctx, adapters.Options{ModelPath: path, Threads: 1})
	require.NoError(t, err)
	assert.Equal(t, before, kernels.Name())
	assert.Equal(t, "on", b2.Settings()["prefix_reuse"])
	assert.Equal(t, kernels.ISA(), b2.Settings()["isa"], "the features of the set that runs")
	if before == "avx2" {
		assert.Equal(t, "avx2,fma,f16c", b2.Settings()["isa"])
	}
	require.NoError(t, b2.Close())
	assert.Equal(t, before, kernels.Name())
}

func TestOptionErrors(t *testing.T) {
	ctx := context.Background()
	path, _, _ := tinyFile(t, kernels.TypeF32)
	before := kernels.Name()
	_, err := Open(ctx, adapters.Options{ModelPath: path, Extra: map[string]string{ExtraKernels: "avx9000"}})
	require.Error(t, err)
	assert.ErrorContains(t, err, `kernels="avx9000"`)
	assert.ErrorContains(t, err, "generic", "the error lists the sets available here")
	_, err = Open(ctx, adapters.Options{ModelPath: path, Extra: map[string]string{ExtraPrefixReuse: "sometimes"}})
	assert.ErrorContains(t, err, `prefix_reuse="sometimes": want on or off`)
	_, err = Open(ctx, adapters.Options{ModelPath: path, Extra: map[string]string{"reuse": "off"}})
	assert.ErrorContains(t, err, `unknown option "reuse"`)
	assert.ErrorContains(t, err, "chunk_size, kernels, prefix_reuse, q8_layout")
	_, err = Open(ctx, adapters.Options{ModelPath: path, Extra: map[string]string{ExtraQ8Layout: "sideways"}})
	assert.ErrorContains(t, err, `q8_layout="sideways": want repacked or file`)
	assert.Equal(t, before, kernels.Name(), "a refused open leaves the kernel set alone")

	// A model that fails to load after a valid kernels option leaves the
	// set alone too.
	_, err = Open(ctx, adapters.Options{ModelPath: path + ".missing", Extra: map[string]string{ExtraKernels: "generic"}})
	require.Error(t, err)
	assert.Equal(t, before, kernels.Name())
}

func TestNoReuseRecomputesAndEqualsCold(t *testing.T) {
	ctx := context.Background()
	path, _, _ := tinyFile(t, kernels.TypeQ8_0)
	b, err := Open(ctx, adapters.Options{ModelPath: path, Threads: 1, Extra: map[string]string{ExtraPrefixReuse: "off"}})
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "off", b.Settings()["prefix_reuse"])

	prefix := transport.PrefixInput{Tokens: testTokens(40, 512, 11)}
	suffix := transport.SuffixInput{Tokens: testTokens(4, 512, 12)}
	s, err := b.NewSession(ctx)
	require.NoError(t, err)
	defer s.Close()
	_, ok := s.(transport.LogitsReader)
	assert.True(t, ok, "the ablation session keeps the optional interfaces")

	first, err := s.EnsurePrefix(ctx, prefix)
	require.NoError(t, err)
	assert.Equal(t, 0, first.ReusedTokens)
	assert.Equal(t, 40, first.ComputedTokens)
	_, err = s.PrefillSuffix(ctx, suffix)
	require.NoError(t, err)

	// The same prefix again: a reusing session would reuse all 40.
	again, err := s.EnsurePrefix(ctx, prefix)
	require.NoError(t, err)
	assert.Equal(t, 0, again.ReusedTokens, "no-reuse reports Reused 0 honestly")
	assert.Equal(t, 40, again.ComputedTokens)
	warm, err := s.PrefillSuffix(ctx, suffix)
	require.NoError(t, err)
	warmDec, err := s.Decode(ctx, 5)
	require.NoError(t, err)

	// A cold session of the normal backend gives the same tokens.
	ref, err := Open(ctx, adapters.Options{ModelPath: path, Threads: 1})
	require.NoError(t, err)
	defer ref.Close()
	cs, err := ref.NewSession(ctx)
	require.NoError(t, err)
	defer cs.Close()
	_, err = cs.EnsurePrefix(ctx, prefix)
	require.NoError(t, err)
	cold, err := cs.PrefillSuffix(ctx, suffix)
	require.NoError(t, err)
	coldDec, err := cs.Decode(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, cold.FirstToken, warm.FirstToken)
	assert.Equal(t, coldDec.Tokens, warmDec.Tokens)

	// Bad input is refused without dropping the resident prefix: the
	// suffix still prefills on top of it.
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: []transport.Token{1, 99999}})
	require.Error(t, err)
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: testTokens(600, 512, 13)})
	require.Error(t, err)
	assert.True(t, transport.IsOverContext(err), "%v", err)
	again2, err := s.PrefillSuffix(ctx, suffix)
	require.NoError(t, err)
	assert.Equal(t, warm.FirstToken, again2.FirstToken)

	require.NoError(t, s.Close())
	_, err = s.EnsurePrefix(ctx, prefix)
	assert.ErrorIs(t, err, transport.ErrClosed)
}

// TestOpenRefusesUnrunnableFAKKernel runs this test binary again with
// FAK_KERNEL naming a set that does not exist: Open must refuse with the
// reason instead of measuring with the default set under the asked name.
func TestOpenRefusesUnrunnableFAKKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the test binary again")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenFAKKernelChild$", "-test.v")
	cmd.Env = append(os.Environ(), env.Kernel.Name+"=avx9000")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), `open: gokernel: FAK_KERNEL="avx9000" ignored`)
	assert.Contains(t, string(out), "unknown kernel set")
}

// TestOpenFAKKernelChild prints Open's error; TestOpenRefusesUnrunnableFAKKernel sets
// FAK_KERNEL for it.
func TestOpenFAKKernelChild(t *testing.T) {
	if env.Kernel.Value() == "" {
		t.Skip("run by TestOpenRefusesUnrunnableFAKKernel")
	}
	path, _, _ := tinyFile(t, kernels.TypeF32)
	b, err := Open(context.Background(), adapters.Options{ModelPath: path, Threads: 1})
	if b != nil {
		_ = b.Close()
	}
	fmt.Printf("open: %v\n", err)
}

// TestQ8LayoutOption: q8_layout=file keeps q8_0 as stored for this backend
// only (what it reads per token is the file's count), and the same tokens
// come out as with the default layout.
func TestQ8LayoutOption(t *testing.T) {
	ctx := context.Background()
	path, _, _ := tinyFile(t, kernels.TypeQ8_0)
	f, err := gguf.Open(path)
	require.NoError(t, err)
	fileBytes := f.DecodeReadBytes()
	require.NoError(t, f.Close())
	run := func(layout string) (int64, []transport.Token) {
		b, err := Open(ctx, adapters.Options{ModelPath: path, Threads: 1, Extra: map[string]string{ExtraQ8Layout: layout}})
		require.NoError(t, err)
		defer b.Close()
		s, err := b.NewSession(ctx)
		require.NoError(t, err)
		defer s.Close()
		_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: testTokens(40, b.Info().VocabSize, 5)})
		require.NoError(t, err)
		out, err := s.Decode(ctx, 8)
		require.NoError(t, err)
		return b.(*Backend).Model().WeightBytes(), out.Tokens
	}
	fb, fileToks := run("file")
	assert.Equal(t, fileBytes, fb, "the file's layout reads the file's bytes")
	_, repToks := run("repacked")
	assert.Equal(t, repToks, fileToks, "same greedy tokens in both layouts")
	assert.False(t, kernels.UseQ8FileLayout(false), "the process default is restored after the load")
}
