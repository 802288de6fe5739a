package llamacpp

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The docs state the tuned profile's flash attention default as the code
// has it (docs/tuning.md once said "on" while the code had it off).
func TestDocsStateTunedFlashAttn(t *testing.T) {
	want := flashName(tunedFlashAttn)
	read := func(name string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("..", "docs", name))
		require.NoError(t, err)
		return string(data)
	}
	// docs/tuning.md: the rows table's "(none)" row lists the tuned defaults.
	var row string
	for _, line := range strings.Split(read("tuning.md"), "\n") {
		if strings.HasPrefix(line, "| (none) |") {
			row = line
		}
	}
	require.NotEmpty(t, row, "docs/tuning.md has no \"| (none) |\" row listing the tuned defaults")
	m := regexp.MustCompile(`flash attention (on|off|auto)`).FindStringSubmatch(row)
	require.NotNil(t, m, "docs/tuning.md's (none) row does not state flash attention: %s", row)
	assert.Equal(t, want, m[1], "docs/tuning.md's (none) row")

	// docs/llamacpp.md: the profile table's flash attention row, tuned column.
	m = regexp.MustCompile(`(?m)^\| flash attention \| (on|off|auto)\b`).FindStringSubmatch(read("llamacpp.md"))
	require.NotNil(t, m, "docs/llamacpp.md has no \"| flash attention | ...\" profile row")
	assert.Equal(t, want, m[1], "docs/llamacpp.md's profile table")
}
