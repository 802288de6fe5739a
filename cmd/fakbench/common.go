package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fakbench/fakbench/internal/cliflags"
)

// helpFiles holds each command's help text, help/<command>.txt: the usage
// lines and what the command does, printed by -h before the flag list.
//
//go:embed help/*.txt
var helpFiles embed.FS

// synopsis returns the help text of "fakbench <name>", or a bare usage
// line when the command has none (a test keeps every command's file).
func synopsis(name string) string {
	b, err := helpFiles.ReadFile("help/" + name + ".txt")
	if err != nil {
		return "usage: fakbench " + name + " [flags]"
	}
	return string(b)
}

// newFlagSet returns the flag set of "fakbench <name>" (cliflags.NewFlagSet).
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return cliflags.NewFlagSet("fakbench "+name, synopsis, stderr)
}

// parseFlags parses args with fs (cliflags.Parse). When parsing cannot go
// on it returns ok = false and the exit code: exitOK after -h, exitUsage
// for a bad flag or a stray argument (the message printed).
func parseFlags(fs *flag.FlagSet, args []string, maxPositional int) (positional []string, code int, ok bool) {
	switch pos, err := cliflags.Parse(fs, args, maxPositional); {
	case err == nil:
		return pos, exitOK, true
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK, false
	}
	return nil, exitUsage, false
}

// parseArgs parses args with fs (parseFlags) and wants exactly n
// positional arguments: fewer is a usage error that says what to give.
func parseArgs(fs *flag.FlagSet, args []string, n int, give string) (positional []string, code int, ok bool) {
	pos, code, ok := parseFlags(fs, args, n)
	if ok && len(pos) < n {
		return nil, usageError(fs.Output(), strings.TrimPrefix(fs.Name(), "fakbench "), "%s", give), false
	}
	return pos, code, ok
}

// usageError prints "fakbench <name>: message" and a hint on stderr and
// returns exitUsage.
func usageError(stderr io.Writer, name, format string, args ...any) int {
	fmt.Fprintf(stderr, "fakbench %s: %s\nRun 'fakbench %s -h' for usage.\n", name, fmt.Sprintf(format, args...), name)
	return exitUsage
}

// splitList splits a comma-separated flag value (cliflags.SplitList).
var splitList = cliflags.SplitList

// failed prints "fakbench <name>: err" and returns exitFailed: the run or
// the check failed.
func failed(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "fakbench %s: %v\n", name, err)
	return exitFailed
}

// badInput prints "fakbench <name>: err" and returns exitUsage: a file or
// value the user gave cannot be used (no usage hint: the flags were fine).
func badInput(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "fakbench %s: %v\n", name, err)
	return exitUsage
}

// exitFor is the exit code of a command that ran: exitFailed when it
// failed, else exitOK.
func exitFor(failed bool) int {
	if failed {
		return exitFailed
	}
	return exitOK
}
