package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
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

// newFlagSet returns the flag set of "fakbench <name>": errors and -h
// output go to stderr, and -h prints synopsis (the usage line and a short
// description) before the flag list.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("fakbench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, strings.TrimRight(synopsis, "\n"))
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "flags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs, allowing flags before, between and after
// positional arguments, and returns the positional ones. maxPositional
// bounds their number (-1: no bound). When parsing cannot go on it returns
// ok = false and the exit code: exitOK after -h (usage printed), exitUsage
// for a bad flag or a stray argument (the message printed).
func parseFlags(fs *flag.FlagSet, args []string, maxPositional int) (positional []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			// The flag package has printed the error and the usage.
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if maxPositional >= 0 && len(positional) > maxPositional {
		stray := positional[maxPositional]
		if maxPositional == 0 {
			fmt.Fprintf(fs.Output(), "%s: unexpected argument %q: this command takes only flags (see '%s -h')\n", fs.Name(), stray, fs.Name())
		} else {
			fmt.Fprintf(fs.Output(), "%s: unexpected argument %q: at most %d argument(s) expected (see '%s -h')\n", fs.Name(), stray, maxPositional, fs.Name())
		}
		return nil, exitUsage, false
	}
	return positional, exitOK, true
}

// usageError prints "fakbench <name>: message" and a hint on stderr and
// returns exitUsage.
func usageError(stderr io.Writer, name, format string, args ...any) int {
	fmt.Fprintf(stderr, "fakbench %s: %s\n", name, fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run 'fakbench %s -h' for usage.\n", name)
	return exitUsage
}

// splitList splits a comma-separated flag value, trimming blanks and
// dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

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
