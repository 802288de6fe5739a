package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCommandLine(t *testing.T) {
	assert.Equal(t, `fakbench run --model 'a b' --x '' 'it'\''s'`, CommandLine([]string{"fakbench", "run", "--model", "a b", "--x", "", "it's"}))
	assert.Equal(t, "fakbench gate dir", CommandLine([]string{"fakbench", "gate", "dir"}))
}
