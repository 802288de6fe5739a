// Command fakbench runs LLM inference backends side by side through one
// session contract and writes one JSON report shape per backend.
//
//	fakbench run --backends gokernel,llamacpp,openvino --model MODEL --out DIR
//	fakbench model gen --preset tiny --type q8_0 --out tiny.gguf
//	fakbench compare DIR...
//
// Exit codes: 0 done; 1 a benchmark or gate failed; 2 usage or input error
// (bad flag, missing file, corrupt model).
package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/fakbench/fakbench/internal/cliflags"
)

// Exit codes shared by every subcommand.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// command is one subcommand. run parses its own flags from args (the words
// after the command name) and returns the exit code.
type command struct {
	name, summary string
	run           runFunc
}

// runFunc runs a command or subcommand on its arguments and returns the
// exit code.
type runFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// runSubcommand runs the subcommand args[0] of "fakbench <name>" from subs;
// -h prints the command's help.
func runSubcommand(ctx context.Context, name string, subs map[string]runFunc, args []string, stdout, stderr io.Writer) int {
	known := slices.Sorted(maps.Keys(subs))
	if len(args) == 0 {
		return usageError(stderr, name, "missing subcommand: %s", strings.Join(known, ", "))
	}
	if sub, ok := subs[args[0]]; ok {
		return sub(ctx, args[1:], stdout, stderr)
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, synopsis(name))
		return exitOK
	}
	return usageError(stderr, name, "unknown subcommand %q: want %s", args[0], strings.Join(known, ", "))
}

var commands = map[string]command{}

// register adds a subcommand; it is called from init() in each subcommand's
// file. A duplicate or empty name is a programming error.
func register(c command) {
	if _, dup := commands[c.name]; dup || c.name == "" || c.run == nil {
		panic(fmt.Sprintf("fakbench: register needs a new, non-empty name and a run function (command %q)", c.name))
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal cancels the context; restoring the default
		// handling lets a second one end a run that does not stop.
		<-ctx.Done()
		stop()
	}()
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// dispatch runs the command named by args[0] and returns the exit code.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if name == "help" && len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "fakbench help: unknown command %q\n\n", args[1])
				usage(stderr)
				return exitUsage
			}
			// A subcommand prints its own usage for -h, on stderr.
			return c.run(ctx, []string{"-h"}, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "fakbench: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

// usage prints help/fakbench.txt with the list of (not hidden) commands.
func usage(w io.Writer) {
	summaries := map[string]string{}
	for n, c := range commands {
		summaries[n] = c.summary
	}
	fmt.Fprintf(w, synopsis("fakbench"), cliflags.CommandList(summaries))
}
