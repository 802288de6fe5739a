package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sectionField decodes the JSON of r and returns field of section, and
// whether it was written.
func sectionField(t *testing.T, data []byte, section, field string) (any, bool) {
	t.Helper()
	var whole map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &whole))
	var sec map[string]any
	require.NoError(t, json.Unmarshal(whole[section], &sec), section)
	v, ok := sec[field]
	return v, ok
}

// first_divergence is always written: 0 is a divergence at the first token
// and must survive a write and a read; -1 is none.
func TestFirstDivergenceAlwaysWritten(t *testing.T) {
	dir := t.TempDir()
	for _, div := range []int{0, NoDivergence, 3} {
		r := &Report{Model: "m", Backend: "b", Mode: "live_prefix_reuse"}
		r.WarmChangedSuffix.FirstDivergence = div
		r.EditedStable.FirstDivergence = div
		path := filepath.Join(dir, "b.json")
		require.NoError(t, WriteJSON(path, r))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, sec := range []string{"warm_changed_suffix", "edited_stable_segment"} {
			v, ok := sectionField(t, data, sec, "first_divergence")
			if assert.True(t, ok, "%s.first_divergence %d not written", sec, div) {
				assert.Equal(t, float64(div), v, sec)
			}
		}
		back, err := ReadJSON(path)
		require.NoError(t, err)
		assert.Equal(t, div, back.WarmChangedSuffix.FirstDivergence)
		assert.Equal(t, div, back.EditedStable.FirstDivergence)
	}
}

// A report written before the field was always written left it out only
// when it was 0 (none was written -1), so an absent field reads as 0.
func TestFirstDivergenceAbsentReadsAsZero(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"model":"m","backend":"b","mode":"live_prefix_reuse",
		"warm_changed_suffix":{"output_equals_cold":false},"edited_stable_segment":{"output_equals_cold":true,"first_divergence":-1}}`), 0o644))
	r, err := ReadJSON(path)
	require.NoError(t, err)
	assert.Equal(t, 0, r.WarmChangedSuffix.FirstDivergence)
	assert.Equal(t, NoDivergence, r.EditedStable.FirstDivergence)
}
