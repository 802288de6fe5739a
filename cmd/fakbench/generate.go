package main

import (
	"context"
	"io"

	_ "github.com/fakbench/fakbench/adapters/all" // registers every in-repo backend
	"github.com/fakbench/fakbench/bench"
)

func init() {
	register(command{
		name:    "generate",
		summary: "continue a text prompt greedily on each backend; print the text beside its token IDs",
		run:     runGenerate,
	})
}

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("generate", synopsis("generate"), stderr)
	var o bench.GenerateOptions
	modelFlag(fs, &o.ModelSpec)
	backends := fs.String("backends", "gokernel,llamacpp", "comma-separated `list` of backends to run")
	fs.IntVar(&o.Tokens, "tokens", bench.DefaultGenerateTokens, "`N` tokens to generate (the first comes from the prompt's prefill)")
	threadsFlag(fs, &o.Threads, &o.Oversubscribe)
	ctxFlag(fs, &o.CtxLen)
	agree := fs.Bool("require-agreement", false, "exit 1 unless every backend that ran generated the same tokens")
	pos, code, ok := parseArgs(fs, args, 1, "give the prompt text as one argument (quote it)")
	if !ok {
		return code
	}
	o.Backends, o.Text, o.Log = splitList(*backends), pos[0], stderr
	if err := o.Check(); err != nil {
		return usageError(stderr, "generate", "%v", err)
	}
	res, err := bench.Generate(ctx, o)
	if err != nil {
		return benchError(stderr, "generate", err)
	}
	res.Describe(stdout)
	return exitFor(res.Failed() || (*agree && !res.Agree()))
}
