// Package cliflags holds the flag handling every fakbench subcommand
// shares: a flag set whose -h prints the command's help text first, parsing
// that allows flags before, between and after positional arguments, and
// comma-separated lists. cmd/fakbench keeps only the declarations.
package cliflags

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ErrUsage is returned by Parse for a bad flag or a stray argument, after
// the message has been printed to the flag set's output.
var ErrUsage = errors.New("usage error")

// NewFlagSet returns a flag set named name whose errors and -h output go to
// stderr; -h prints synopsis (the usage lines and a short description)
// before the flag list.
func NewFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, strings.TrimRight(synopsis, "\n"))
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "flags:")
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args with fs, allowing flags before, between and after the
// positional arguments, and returns those. maxPositional bounds their
// number (-1: no bound). The error is flag.ErrHelp after -h (the usage
// printed), ErrUsage for a bad flag or a stray argument (the message
// printed).
func Parse(fs *flag.FlagSet, args []string, maxPositional int) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, flag.ErrHelp
			}
			return nil, ErrUsage // the flag package has printed the error and the usage
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
		return nil, ErrUsage
	}
	return positional, nil
}

// SplitList splits a comma-separated flag value, trimming blanks and
// dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// CommandList is the command list of a help text: one line per command,
// sorted by name, "  name  summary" with the summaries aligned; a command
// with an empty summary is hidden.
func CommandList(summaries map[string]string) string {
	names := make([]string, 0, len(summaries))
	width := 0
	for n, s := range summaries {
		if s != "" {
			names = append(names, n)
			width = max(width, len(n))
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, n, summaries[n])
	}
	return b.String()
}
