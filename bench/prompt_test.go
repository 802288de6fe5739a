package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/tokenizer"
)

func TestReadPrompt(t *testing.T) {
	m, err := ResolveModel(context.Background(), "synthetic:tiny", nil)
	require.NoError(t, err)

	p, err := readPrompt("", m)
	require.NoError(t, err)
	assert.Nil(t, p, "no --prompt-file, no prompt")

	path := filepath.Join(t.TempDir(), "prompt.txt")
	require.NoError(t, os.WriteFile(path, []byte("the quick brown fox"), 0o644))
	p, err = readPrompt(path, m)
	require.NoError(t, err)
	assert.Equal(t, "llama", p.tokenizer)
	sum := sha256.Sum256([]byte("the quick brown fox"))
	assert.Equal(t, hex.EncodeToString(sum[:]), p.sha256, "the file's sha256")
	assert.Equal(t, path, p.file)
	want, err := tokenizerOf(t, m.Path).Encode("the quick brown fox", true)
	require.NoError(t, err)
	assert.Equal(t, want, p.ids)

	_, err = readPrompt(filepath.Join(t.TempDir(), "nope.txt"), m)
	assert.ErrorContains(t, err, "--prompt-file")
	assert.ErrorContains(t, err, "nope.txt")

	empty := filepath.Join(t.TempDir(), "empty.txt")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	// The synthetic model adds BOS: even empty text is one token, which
	// the scenario then finds too short; a model without BOS finds none.
	p, err = readPrompt(empty, m)
	require.NoError(t, err)
	assert.Len(t, p.ids, 1)

	nt, err := ResolveModel(context.Background(), noTokenizerModel(t), nil)
	require.NoError(t, err)
	_, err = readPrompt(path, nt)
	assert.ErrorIs(t, err, tokenizer.ErrNoTokenizer)
	assert.ErrorContains(t, err, "--prompt-file "+path)
}
