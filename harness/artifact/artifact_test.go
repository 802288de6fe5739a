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

// HasResult makes file a File: its result is a non-zero Extra.
func (f *file) HasResult() bool { return f.Extra != 0 }

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

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	k := Kind{Prefix: "pfx", What: "a thing", Schema: "s", NoResult: "no extra"}

	f, err := Read[file](write("ok.json", `{"schema":"s","backend":"b","status":"ok","extra":7}`), k)
	require.NoError(t, err)
	assert.Equal(t, "b", f.Backend)
	assert.Equal(t, 7, f.Extra)
	// A backend that did not run has no result to hold.
	f, err = Read[file](write("skipped.json", `{"schema":"s","backend":"b","status":"skipped","reason":"r"}`), k)
	require.NoError(t, err)
	assert.Equal(t, "r", f.Reason)

	noResult := write("empty.json", `{"schema":"s","backend":"b","status":"ok"}`)
	for want, path := range map[string]string{
		"pfx: " + noResult + ": status ok but no extra":                          noResult,
		"pfx: " + filepath.Join(dir, "x.json") + `: schema "x", want "s"`:        write("x.json", `{"schema":"x","backend":"b","status":"ok","extra":1}`),
		"pfx: " + filepath.Join(dir, "arr.json") + " is not a thing: ":           write("arr.json", `[1]`),
		"pfx: open " + filepath.Join(dir, "none.json") + ": no such file or dir": filepath.Join(dir, "none.json"),
	} {
		_, err := Read[file](path, k)
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}
