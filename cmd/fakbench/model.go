package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

const modelSynopsis = `usage: fakbench model gen --preset tiny|smol135m|llama1b [--type f32|f16|q8_0] --out FILE.gguf
       fakbench model info FILE.gguf|synthetic:PRESET[:TYPE]|real:NAME

gen writes a deterministic synthetic Llama-architecture model (the same bytes
every time) and prints its size and sha256. info prints a model's
hyper-parameters, tensor count and types, and digest.`

func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, "model", "missing subcommand: gen or info")
	}
	switch args[0] {
	case "gen":
		return runModelGen(ctx, args[1:], stdout, stderr)
	case "info":
		return runModelInfo(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stderr, modelSynopsis)
		return exitOK
	}
	return usageError(stderr, "model", "unknown subcommand %q: want gen or info", args[0])
}

func runModelGen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("model gen", modelSynopsis, stderr)
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
	p, err := models.LookupPreset(*preset)
	if err != nil {
		return usageError(stderr, "model gen", "--preset: %v", err)
	}
	t, err := models.ParseType(*typ)
	if err != nil {
		return usageError(stderr, "model gen", "--type: %v", err)
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "fakbench model gen: %v\n", err)
		return exitFailed
	}
	if dir := filepath.Dir(*out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintf(stderr, "fakbench model gen: %v\n", err)
			return exitUsage
		}
	}
	if err := models.GenerateFile(*out, p, t); err != nil {
		fmt.Fprintf(stderr, "fakbench model gen: writing %s: %v\n", *out, err)
		return exitUsage
	}
	st, err := os.Stat(*out)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench model gen: %v\n", err)
		return exitFailed
	}
	digest, err := models.FileDigest(*out)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench model gen: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s\t%d bytes\t%s\tsynthetic:%s:%s\n", *out, st.Size(), digest, *preset, *typ)
	return exitOK
}

func runModelInfo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("model info", modelSynopsis, stderr)
	pos, code, ok := parseFlags(fs, args, 1)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "model info", "name one model: a .gguf file, synthetic:PRESET[:TYPE] or real:NAME")
	}
	m, err := bench.ResolveModel(ctx, pos[0], stderr)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench model info: %v\n", err)
		return exitUsage
	}
	f, err := gguf.Open(m.Path)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench model info: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	describeModel(stdout, m, f)
	return exitOK
}

// describeModel prints what a person needs to know about a model file.
func describeModel(w io.Writer, m models.Resolved, f *gguf.File) {
	arch, _ := f.String("general.architecture")
	fmt.Fprintf(w, "file:          %s\n", m.Path)
	if m.Spec != m.Path {
		fmt.Fprintf(w, "spec:          %s\n", m.Spec)
	}
	fmt.Fprintf(w, "size:          %d bytes (%.1f MiB)\n", m.Size, float64(m.Size)/(1<<20))
	fmt.Fprintf(w, "digest:        %s\n", m.Digest)
	fmt.Fprintf(w, "gguf:          version %d, alignment %d, %d metadata keys, %d tensors\n", f.Version, f.Alignment, len(f.KVs), len(f.Tensors))
	fmt.Fprintf(w, "name:          %s\n", m.Name)
	fmt.Fprintf(w, "architecture:  %s\n", arch)

	fmt.Fprintln(w, "hyper-parameters:")
	prefix := arch + "."
	if arch == "" {
		prefix = "\x00" // no architecture: no hyper-parameter keys to pick
	}
	for _, kv := range f.KVs {
		if !strings.HasPrefix(kv.Key, prefix) {
			continue
		}
		if _, isArr := kv.ArrayType(); isArr {
			fmt.Fprintf(w, "  %-40s [array]\n", kv.Key)
			continue
		}
		fmt.Fprintf(w, "  %-40s %v\n", kv.Key, kv.Value)
	}
	if toks, err := f.Strings("tokenizer.ggml.tokens"); err == nil {
		tm, _ := f.String("tokenizer.ggml.model")
		fmt.Fprintf(w, "tokenizer:     %s, %d tokens\n", tm, len(toks))
	} else {
		fmt.Fprintln(w, "tokenizer:     none")
	}

	params, byType := models.Tally(f)
	fmt.Fprintf(w, "tensors:       %d (%d parameters, %.1fM)\n", len(f.Tensors), params, float64(params)/1e6)
	fmt.Fprintln(w, "types:")
	for _, t := range byType {
		fmt.Fprintf(w, "  %-6s %4d tensors  %12d parameters  %10.1f MiB\n", t.Type, t.Tensors, t.Params, float64(t.Bytes)/(1<<20))
	}
}
