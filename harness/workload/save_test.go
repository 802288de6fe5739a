package workload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	w, err := Synthesize(DefaultSynthParams(), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "sub", "w.json")
	require.NoError(t, w.Save(path))
	got, err := Load(path)
	require.NoError(t, err)
	want, _ := w.Digest()
	d, _ := got.Digest()
	assert.Equal(t, want, d)
}

func TestDeriveFile(t *testing.T) {
	log := `{"usage":{"prompt_tokens":100,"completion_tokens":10}}` + "\n"
	path := filepath.Join(t.TempDir(), "requests.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(log), 0o644))

	w, err := DeriveFile(path, nil, DeriveOptions{})
	require.NoError(t, err)
	assert.Equal(t, "request log requests.jsonl", w.Provenance.Source)
	require.Len(t, w.Turns, 1)

	w, err = DeriveFile("-", strings.NewReader(log), DeriveOptions{Source: "stdin log"})
	require.NoError(t, err)
	assert.Equal(t, "stdin log", w.Provenance.Source)

	_, err = DeriveFile(filepath.Join(t.TempDir(), "missing.jsonl"), nil, DeriveOptions{})
	require.Error(t, err)

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("not json\n"), 0o644))
	_, err = DeriveFile(bad, nil, DeriveOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad+": ")
}
