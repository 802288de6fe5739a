package main

import (
	"context"
	"io"
	"strings"

	"github.com/fakbench/fakbench/nodebench"
)

func init() {
	register(command{
		name:    "gate",
		summary: "check a node artifact directory against its manifest and the clean-box criteria",
		run:     runGate,
	})
}

func runGate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("gate", synopsis("gate"), stderr)
	clean := fs.Bool("clean-node", false, "assert the artifacts were captured on a node without the live fleet load")
	asJSON := fs.Bool("json", false, `print {"pass": bool, "criteria": [{"name", "pass", "detail"}]}`)
	profile := fs.String("profile", "", "hardware `profile` of the threshold table ("+strings.Join(nodebench.ProfileNames(), ", ")+"; default: the manifest's)")
	pos, code, ok := parseArgs(fs, args, 1, "name one artifact directory")
	if !ok {
		return code
	}
	res, err := nodebench.Gate(pos[0], nodebench.GateOptions{CleanNode: *clean, Profile: *profile})
	if err != nil {
		return badInput(stderr, "gate", err)
	}
	if err := res.Print(stdout, *asJSON); err != nil {
		return failed(stderr, "gate", err)
	}
	return exitFor(!res.Pass)
}
