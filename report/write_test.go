package report

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contractKeys is the golden list of the report contract's JSON keys and
// their nesting (docs/methodology.md); none may be renamed or dropped.
var contractKeys = []string{
	"model", "backend", "mode", "profile", "backend_version",
	"cold_full_prefill.tokens", "cold_full_prefill.ms", "cold_full_prefill.prompt_tps", "cold_full_prefill.ttft_ms",
	"warm_same_prefix.cached_tokens", "warm_same_prefix.new_tokens", "warm_same_prefix.ms", "warm_same_prefix.ttft_ms", "warm_same_prefix.hit_rate",
	"warm_changed_suffix.cached_tokens", "warm_changed_suffix.suffix_tokens", "warm_changed_suffix.ms", "warm_changed_suffix.ttft_ms", "warm_changed_suffix.output_equals_cold",
	"edited_stable_segment.expected_cache_miss", "edited_stable_segment.actual_cache_miss", "edited_stable_segment.output_equals_cold",
	"decode.output_tokens", "decode.tokens_per_sec",
	"suffix_ttft_curve[].suffix_tokens", "suffix_ttft_curve[].ttft_ms",
	"failure_cases.over_context", "failure_cases.cancel_decode",
	"notes",
}

// keyPaths flattens a decoded JSON value into dotted key paths; array
// elements are written as "name[]".
func keyPaths(prefix string, v any, out map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = true
			keyPaths(p, child, out)
		}
	case []any:
		for _, child := range t {
			keyPaths(prefix+"[]", child, out)
		}
	}
}

// jsonShape encodes r and returns the decoded JSON object and its key
// paths (keyPaths).
func jsonShape(t *testing.T, r *Report) (map[string]any, map[string]bool) {
	t.Helper()
	data, err := json.Marshal(r)
	require.NoError(t, err)
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(data, &decoded))
	got := map[string]bool{}
	keyPaths("", decoded, got)
	return decoded, got
}

func TestJSONShapeHasEverySeedKey(t *testing.T) {
	decoded, got := jsonShape(t, fixture()[0])
	for _, k := range contractKeys {
		assert.True(t, got[k], "report contract key %q missing from the JSON", k)
	}
	// The contract's sections are objects, not flattened or renamed.
	for _, sec := range []string{"cold_full_prefill", "warm_same_prefix", "warm_changed_suffix", "edited_stable_segment", "decode", "failure_cases"} {
		_, isObj := decoded[sec].(map[string]any)
		assert.True(t, isObj, "%s must be a JSON object", sec)
	}
	_, isArr := decoded["suffix_ttft_curve"].([]any)
	assert.True(t, isArr, "suffix_ttft_curve must be an array")
	// Extras are inlined at the top level.
	assert.Equal(t, KindTunedReference, decoded["row_kind"])
	assert.Equal(t, "sha256:tttt", decoded["token_ids_digest"])
}

func TestJSONZeroSectionsStayPresent(t *testing.T) {
	// A section a backend cannot exercise stays zero-valued, not absent.
	_, got := jsonShape(t, &Report{Model: "m", Backend: "b", Mode: "x"})
	for _, k := range contractKeys {
		if k == "profile" || k == "backend_version" || k == "notes" || strings.HasPrefix(k, "suffix_ttft_curve") {
			continue // omitempty in the contract itself
		}
		assert.True(t, got[k], "key %q must be present even when zero", k)
	}
}

func TestWriteJSONRoundTripAndAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "gokernel.json")
	in := fixture()[1]
	require.NoError(t, WriteJSON(path, in))

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "{\n  \"model\""), "indented JSON expected, got %.40q", data)
	assert.True(t, strings.HasSuffix(string(data), "}\n"))

	out, err := ReadJSON(path)
	require.NoError(t, err)
	assert.Equal(t, in, out)

	// No temporary file is left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "gokernel.json", entries[0].Name())

	// Overwriting replaces the content.
	in2 := *in
	in2.Decode.TokensPerSec = 77
	require.NoError(t, WriteJSON(path, &in2))
	out, err = ReadJSON(path)
	require.NoError(t, err)
	assert.Equal(t, 77.0, out.Decode.TokensPerSec)
}

func TestWriteJSONErrors(t *testing.T) {
	dir := t.TempDir()
	assert.ErrorContains(t, WriteJSON(filepath.Join(dir, "x.json"), nil), "nil report")

	// The parent "directory" is a file.
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, []byte("x"), 0o644))
	err := WriteJSON(filepath.Join(blocker, "x.json"), fixture()[0])
	require.Error(t, err)
	assert.Contains(t, err.Error(), "file")
}

func TestWriteJSONFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "f.json")
	v := map[string]any{"a": 1, "b": []float64{1.5, 2}, "c": "<&>"}
	require.NoError(t, WriteJSONFile(path, v))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"a\": 1,\n  \"b\": [\n    1.5,\n    2\n  ],\n  \"c\": \"\\u003c\\u0026\\u003e\"\n}\n", string(b),
		"two-space indent, HTML characters escaped as encoding/json does, a final newline")
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	// A value JSON cannot encode: the error names the file, and no file is made.
	bad := filepath.Join(t.TempDir(), "nan.json")
	err = WriteJSONFile(bad, map[string]float64{"x": math.NaN()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "report: encode "+bad)
	assert.Contains(t, err.Error(), "NaN")
	assert.NoFileExists(t, bad)
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	rs := fixture()
	// Written in an order different from the display order.
	require.NoError(t, WriteJSON(filepath.Join(dir, "openvino.json"), rs[2]))
	require.NoError(t, WriteJSON(filepath.Join(dir, "gokernel.json"), rs[1]))
	require.NoError(t, WriteJSON(filepath.Join(dir, "llamacpp.json"), rs[0]))
	// Other artifacts are ignored.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "production-readiness-manifest.json"), []byte(`{"host":"x"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "report.md"), []byte("# x"), 0o644))

	got, err := ReadDir(dir)
	require.NoError(t, err)
	names := []string{}
	for _, r := range got {
		names = append(names, r.Backend)
	}
	assert.Equal(t, []string{"llamacpp", "gokernel", "openvino"}, names)
}

func TestReadDirErrors(t *testing.T) {
	_, err := ReadDir(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing")

	empty := t.TempDir()
	_, err = ReadDir(empty)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no backend report")

	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "gokernel.json"), []byte(`{"backend": "gokernel", "decode": {"tokens_per_sec": "fast"}}`), 0o644))
	_, err = ReadDir(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gokernel.json")

	garbage := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(garbage, "x.json"), []byte(`not json`), 0o644))
	_, err = ReadDir(garbage)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "x.json")

	_, err = ReadJSON(filepath.Join(garbage, "x.json"))
	assert.ErrorContains(t, err, "not a report")
	require.NoError(t, os.WriteFile(filepath.Join(garbage, "nob.json"), []byte(`{"model": "m"}`), 0o644))
	_, err = ReadJSON(filepath.Join(garbage, "nob.json"))
	assert.ErrorContains(t, err, `no "backend" field`)
}

func TestSortReports(t *testing.T) {
	rs := []*Report{
		{Backend: "openvino"},
		{Backend: "aaa", Extras: Extras{RowKind: KindTunedReference, Status: StatusSkipped}},
		{Backend: "gokernel", Extras: Extras{RowKind: KindAblation, RowLabel: "gokernel-noreuse"}},
		{Backend: "gokernel", Extras: Extras{RowKind: KindKernel}},
		{Backend: "llamacpp", Extras: Extras{RowKind: KindUntuned}},
		{Backend: "llamacpp", Extras: Extras{RowKind: KindTunedReference}},
	}
	SortReports(rs)
	var got []string
	for _, r := range rs {
		got = append(got, r.Backend+":"+r.RowKind)
	}
	assert.Equal(t, []string{"llamacpp:tuned_reference", "gokernel:kernel", "gokernel:ablation", "llamacpp:untuned", "openvino:", "aaa:tuned_reference"}, got)
}

func TestCorrectnessFailures(t *testing.T) {
	rs := fixture()
	assert.Empty(t, CorrectnessFailures(rs[0]))
	assert.Empty(t, CorrectnessFailures(rs[1]))
	assert.Empty(t, CorrectnessFailures(rs[2]), "a skipped row has no correctness failures")
	assert.Equal(t, []string{"no report"}, CorrectnessFailures(nil))

	bad := *rs[1]
	bad.WarmSamePrefix.HitRate = 0.5
	bad.WarmChangedSuffix.OutputEqualsCold = false
	bad.EditedStable = EditedStable{ExpectedCacheMiss: true}
	bad.FailureCases = FailureCases{}
	bad.Status = StatusFailed
	got := strings.Join(CorrectnessFailures(&bad), "\n")
	for _, want := range []string{"status \"failed\"", "hit_rate = 0.5", "warm_changed_suffix.output_equals_cold", "actual_cache_miss = false",
		"edited_stable_segment.output_equals_cold", "over_context", "cancel_decode"} {
		assert.Contains(t, got, want)
	}
	// expected_cache_miss is a constant of the scenario, shown as
	// information: it is no check.
	noEdit := *rs[1]
	noEdit.EditedStable.ExpectedCacheMiss = false
	assert.Empty(t, CorrectnessFailures(&noEdit))
	for _, m := range Metrics(rs) {
		if m.Key == "edited_stable_segment.expected_cache_miss" {
			assert.False(t, m.Check, "expected_cache_miss is information, not a check")
			assert.Equal(t, Info, m.Better)
			assert.Equal(t, "true", m.Format(rs[1]))
		}
	}
}
