package main

import (
	"context"
	"io"

	"github.com/fakbench/fakbench/bench"
)

// The hidden command a row's child process runs (bench.ServeChild).
func init() {
	register(command{name: bench.ChildCommand, run: func(ctx context.Context, _ []string, _, stderr io.Writer) int {
		if err := bench.ServeChild(ctx, stderr); err != nil {
			return failed(stderr, bench.ChildCommand, err)
		}
		return exitOK
	}})
}
