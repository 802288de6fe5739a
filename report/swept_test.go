package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sweptFixture() *Swept {
	return &Swept{Config: "flash_attn=off n_ubatch=512", Options: map[string]string{"flash_attn": "off", "n_ubatch": "512"},
		Objective: "the highest geometric mean of ...", Score: 0.97, Configurations: 4, Eligible: 3,
		Grid: "flash_attn=on,off;n_ubatch=256,512", File: "sweep-llamacpp.json"}
}

// The headline says which configuration a swept reference is, that it was
// measured in the run, and where the sweep and its composite are.
func TestHeadlineNamesTheChosenConfiguration(t *testing.T) {
	rows := fixture()
	rows[0].Swept = sweptFixture()
	md := Markdown(rows)
	head := md[strings.Index(md, "## Headline"):strings.Index(md, "## Side by side")]
	assert.Contains(t, head, "same run; every row is one configuration, measured in this run.")
	assert.Contains(t, head, "llama.cpp is one configuration, flash_attn=off n_ubatch=512, chosen from a sweep of 4 configurations (3 passed every check) by the objective: the highest geometric mean of ... (its score 0.970); it was measured in this run like every row. Every configuration's report is kept in sweep-llamacpp.json, with a per-section composite that is not a measured configuration and enters no headline.")
	assert.Equal(t, []string{strings.TrimSpace(SweptLines(rows)[0])}, SweptLines(rows))

	// A row not swept, or a swept row that did not complete, is not
	// described as a measured configuration.
	assert.Empty(t, SweptLines(fixture()))
	rows[0].Status = StatusFailed
	assert.Empty(t, SweptLines(FindStanding(rows).Refs))
	assert.NotContains(t, Markdown(rows), "is one configuration, flash_attn")
}

func TestHeadlineKeysAreACopy(t *testing.T) {
	keys := HeadlineKeys()
	require.NotEmpty(t, keys)
	assert.Equal(t, "decode.tokens_per_sec", keys[0])
	keys[0] = "changed"
	assert.Equal(t, "decode.tokens_per_sec", HeadlineKeys()[0])
}
