package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fakbench/fakbench/models"
)

func init() {
	register(command{
		name:    "model",
		summary: "generate a synthetic GGUF model (gen), quantize one with llama.cpp (quantize) or describe a model file (info)",
		run:     runModel,
	})
}

func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runSubcommand(ctx, "model", map[string]runFunc{"gen": runModelGen, "info": runModelInfo, "quantize": runModelQuantize}, args, stdout, stderr)
}

func runModelGen(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("model gen", synopsis("model"), stderr)
	preset := fs.String("preset", "", "model shape: "+strings.Join(models.PresetNames(), ", ")+" (required)")
	typ := fs.String("type", "f32", "weight type: f32, f16 or q8_0 (others: model quantize)")
	out := fs.String("out", "", "output `file` (.gguf, required)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *preset == "" || *out == "" {
		return usageError(stderr, "model gen", "missing --preset (one of %s) or --out (the .gguf file to write)", strings.Join(models.PresetNames(), ", "))
	}
	spec, err := models.GenSpec(*preset, *typ, stderr)
	if err != nil {
		return usageError(stderr, "model gen", "--preset, --type: %v", err)
	}
	size, digest, err := models.WriteSynthetic(*out, spec)
	if err != nil {
		return badInput(stderr, "model gen", err)
	}
	fmt.Fprintf(stdout, "%s\t%d bytes\t%s\t%s\n", *out, size, digest, spec)
	return exitOK
}

func runModelInfo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("model info", synopsis("model"), stderr)
	pos, code, ok := parseArgs(fs, args, 1, "name one model: a .gguf file, synthetic:PRESET[:TYPE] or real:NAME")
	if !ok {
		return code
	}
	if err := models.DescribeSpec(ctx, stdout, pos[0], stderr); err != nil {
		return badInput(stderr, "model info", err)
	}
	return exitOK
}

func runModelQuantize(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("model quantize", synopsis("model"), stderr)
	typ := fs.String("type", "", "quantization `type`: "+strings.Join(models.QuantizeTypes(), ", ")+" (required)")
	threads := fs.Int("threads", 0, "quantizer threads (0: one per physical core; the file is the same)")
	pos, code, ok := parseArgs(fs, args, 2, "name the input and the output file: IN.gguf OUT.gguf --type TYPE")
	if !ok {
		return code
	}
	q, err := models.QuantizeFile(ctx, pos[0], pos[1], *typ, *threads)
	if err != nil {
		return badInput(stderr, "model quantize", err)
	}
	fmt.Fprintf(stdout, "%s\t%d bytes\t%s\t%s\n", q.Path, q.Size, q.Digest, q.Type)
	return exitOK
}
