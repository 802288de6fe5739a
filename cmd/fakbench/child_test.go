package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/fakbench/fakbench/bench"
)

// TestMain lets the test binary serve as a row's child process: the runs
// these tests start isolate their rows by running os.Executable() (this
// binary) as "row-child", as the fakbench binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == bench.ChildCommand {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
