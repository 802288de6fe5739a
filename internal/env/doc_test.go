package env

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite docs/env.md from the declarations")

// repoRoot is the repository root: this package lives in internal/env.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the repository root holds go.mod")
	return root
}

// TestDocIsCurrent fails when docs/env.md differs from what the
// declarations render; -update rewrites it.
func TestDocIsCurrent(t *testing.T) {
	p := filepath.Join(repoRoot(t), DocPath)
	want := Markdown()
	if *update {
		require.NoError(t, os.WriteFile(p, []byte(want), 0o644))
	}
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, want, string(got),
		"%s is out of date with internal/env/vars.go: run go test ./internal/env -run TestDocIsCurrent -update", DocPath)
}

func TestMarkdownListsEveryVariable(t *testing.T) {
	md := Markdown()
	for _, v := range All() {
		assert.Contains(t, md, "| `"+v.Name+"` | "+string(v.Kind)+" |", v.Name)
		for _, r := range v.ReadBy {
			assert.Contains(t, md, "`"+r+"`")
		}
	}
	for _, s := range Scopes {
		assert.Contains(t, md, "## "+scopeTitles[s])
		assert.NotEmpty(t, scopeIntros[s], s)
	}
	assert.Equal(t, `a \| b c`, cell("a | b\nc"))
}
