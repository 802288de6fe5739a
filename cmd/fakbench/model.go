package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/models"
)

func init() {
	register(command{
		name:    "model",
		summary: "generate a synthetic GGUF model (gen) or describe a model file (info)",
		run:     runModel,
	})
}

func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runSubcommand(ctx, "model", map[string]runFunc{"gen": runModelGen, "info": runModelInfo}, args, stdout, stderr)
}

func runModelGen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("model gen", synopsis("model"), stderr)
	preset := fs.String("preset", "", "model shape: "+strings.Join(models.PresetNames(), ", ")+" (required)")
	typ := fs.String("type", "f32", "weight type: f32, f16 or q8_0")
	out := fs.String("out", "", "output `file` (.gguf, required)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *preset == "" {
		return usageError(stderr, "model gen", "missing --preset (one of %s)", strings.Join(models.PresetNames(), ", "))
	}
	if *out == "" {
		return usageError(stderr, "model gen", "missing --out (the .gguf file to write)")
	}
	if _, err := models.LookupPreset(*preset); err != nil {
		return usageError(stderr, "model gen", "--preset: %v", err)
	}
	t, err := models.ParseType(*typ)
	if err != nil {
		return usageError(stderr, "model gen", "--type: %v", err)
	}
	if err := ctx.Err(); err != nil {
		return failed(stderr, "model gen", err)
	}
	size, digest, err := models.WriteSynthetic(*out, models.Spec{Preset: *preset, Type: t})
	if err != nil {
		return badInput(stderr, "model gen", err)
	}
	fmt.Fprintf(stdout, "%s\t%d bytes\t%s\tsynthetic:%s:%s\n", *out, size, digest, *preset, *typ)
	return exitOK
}

func runModelInfo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("model info", synopsis("model"), stderr)
	pos, code, ok := parseFlags(fs, args, 1)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "model info", "name one model: a .gguf file, synthetic:PRESET[:TYPE] or real:NAME")
	}
	m, err := bench.ResolveModel(ctx, pos[0], stderr)
	if err != nil {
		return badInput(stderr, "model info", err)
	}
	f, err := gguf.Open(m.Path)
	if err != nil {
		return badInput(stderr, "model info", err)
	}
	defer f.Close()
	models.Describe(stdout, m, f)
	return exitOK
}
