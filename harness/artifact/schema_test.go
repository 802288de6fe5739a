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
	var v struct {
		Schema string `json:"schema"`
		N      int    `json:"n"`
	}
	for _, tc := range []struct{ name, body, want string }{
		{"good.json", `{"schema":"s/v1","n":3}`, ""},
		{"other.json", `{"schema":"s/v2","n":3}`, `: schema "s/v2", want "s/v1"`},
		{"none.json", `{"n":3}`, `: schema "", want "s/v1"`},
		// The file's own faults come first, as ReadJSON words them.
		{"bad.json", `[1]`, " is not a thing: "},
	} {
		path := filepath.Join(dir, tc.name)
		require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o644))
		err := ReadSchemaJSON(path, "pfx", "a thing", "s/v1", &v)
		if tc.want == "" {
			require.NoError(t, err)
			assert.Equal(t, 3, v.N)
			continue
		}
		assert.ErrorContains(t, err, "pfx: "+path+tc.want, tc.name)
	}
	err := ReadSchemaJSON(filepath.Join(dir, "missing.json"), "pfx", "a thing", "s/v1", &v)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, "pfx: ")
}
