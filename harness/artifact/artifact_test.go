package artifact

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type file struct {
	Identity
	Extra int `json:"extra"`
}

func TestIdentityEncodesInline(t *testing.T) {
	f := file{Identity: Identity{Schema: "s", Backend: "b", Status: StatusSkipped, Reason: "r", ModelSpec: "m", Threads: 2}, Extra: 1}
	got, err := json.Marshal(f)
	require.NoError(t, err)
	assert.Equal(t, `{"schema":"s","backend":"b","status":"skipped","reason":"r","model_spec":"m","threads":2,"short":false,"extra":1}`, string(got))
}

func TestReadJSON(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"schema":"s","backend":"b","status":"ok","extra":7}`), 0o644))
	var f file
	require.NoError(t, ReadJSON(good, "pfx", "a thing", &f))
	assert.Equal(t, "b", f.Backend)
	assert.Equal(t, 7, f.Extra)

	err := ReadJSON(filepath.Join(dir, "missing.json"), "pfx", "a thing", &f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pfx: ")
	assert.Contains(t, err.Error(), "missing.json")

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`[1]`), 0o644))
	err = ReadJSON(bad, "pfx", "a thing", &f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pfx: "+bad+" is not a thing: ")
}

func TestCheck(t *testing.T) {
	ok := Identity{Schema: "s", Backend: "b", Status: StatusOK}
	require.NoError(t, ok.Check("p.json", "pfx", "s"))
	for want, id := range map[string]Identity{
		`pfx: p.json: schema "x", want "s"`:                      {Schema: "x", Backend: "b", Status: StatusOK},
		`pfx: p.json: no backend name`:                           {Schema: "s", Status: StatusFailed},
		`pfx: p.json: status "done", want ok, skipped or failed`: {Schema: "s", Backend: "b", Status: "done"},
	} {
		err := id.Check("p.json", "pfx", "s")
		require.Error(t, err, want)
		assert.Equal(t, want, err.Error())
	}
}
