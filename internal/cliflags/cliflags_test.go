package cliflags

import (
	"bytes"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlagsAmongArguments(t *testing.T) {
	var errb bytes.Buffer
	fs := NewFlagSet("fakbench t", "usage: t ARG...", &errb)
	n := fs.Int("n", 0, "a number")
	pos, err := Parse(fs, []string{"a", "-n", "3", "b"}, -1)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, pos)
	assert.Equal(t, 3, *n)
	assert.Empty(t, errb.String())

	_, err = Parse(NewFlagSet("fakbench t", "usage: t", &errb), []string{"stray"}, 0)
	assert.ErrorIs(t, err, ErrUsage)
	assert.Contains(t, errb.String(), `fakbench t: unexpected argument "stray": this command takes only flags (see 'fakbench t -h')`)
	errb.Reset()
	_, err = Parse(NewFlagSet("fakbench t", "usage: t", &errb), []string{"a", "b"}, 1)
	assert.ErrorIs(t, err, ErrUsage)
	assert.Contains(t, errb.String(), `unexpected argument "b": at most 1 argument(s) expected`)
	errb.Reset()
	_, err = Parse(NewFlagSet("fakbench t", "usage: t", &errb), []string{"-bogus"}, 0)
	assert.ErrorIs(t, err, ErrUsage)
	assert.Contains(t, errb.String(), "flag provided but not defined: -bogus")
	errb.Reset()
	_, err = Parse(NewFlagSet("fakbench t", "usage: t ARG...\n", &errb), []string{"-h"}, 0)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, errb.String(), "usage: t ARG...\n\nflags:\n")
}

func TestSplitList(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "c"}, SplitList(" a, b,,c ,"))
	assert.Nil(t, SplitList(""))
	assert.Nil(t, SplitList(" , "))
}

func TestCommandList(t *testing.T) {
	got := CommandList(map[string]string{"run": "run backends", "node-bench": "the node bench", "child": ""})
	assert.Equal(t, "  node-bench  the node bench\n  run         run backends\n", got)
	assert.Empty(t, CommandList(nil))
}
