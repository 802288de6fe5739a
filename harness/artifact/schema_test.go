package artifact

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadSchemaJSON(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	var v struct {
		Schema string `json:"schema"`
		N      int    `json:"n"`
	}
	good := write("good.json", `{"schema":"s/v1","n":3}`)
	require.NoError(t, ReadSchemaJSON(good, "pfx", "a thing", "s/v1", &v))
	assert.Equal(t, 3, v.N)

	other := write("other.json", `{"schema":"s/v2","n":3}`)
	assert.EqualError(t, ReadSchemaJSON(other, "pfx", "a thing", "s/v1", &v), `pfx: `+other+`: schema "s/v2", want "s/v1"`)
	none := write("none.json", `{"n":3}`)
	assert.EqualError(t, ReadSchemaJSON(none, "pfx", "a thing", "s/v1", &v), `pfx: `+none+`: schema "", want "s/v1"`)

	// The file's own faults come first, as ReadJSON words them.
	bad := write("bad.json", `[1]`)
	assert.ErrorContains(t, ReadSchemaJSON(bad, "pfx", "a thing", "s/v1", &v), "pfx: "+bad+" is not a thing: ")
	err := ReadSchemaJSON(filepath.Join(dir, "missing.json"), "pfx", "a thing", "s/v1", &v)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, "pfx: ")
}
