package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

func init() {
	register(command{
		name:    "batch",
		summary: "batch curve: aggregate decode tok/s for B = 1..64 sequences; write batch-<backend>.json",
		run:     runBatch,
	})
}

const batchSynopsis = `usage: fakbench batch --model MODEL --out DIR [--backends LIST] [--short] [--threads N]
                      [--reps N] [--prompt N] [--steps N] [--batches 1,2,4,...]
                      [--report-dir DIR] [--workload W.json]

Decodes B sequences together (each step one read of the weights for all of
them) for B = 1, 2, 4, 8, 16, 32, 64 on every backend that implements batched
decode, and writes DIR/batch-<backend>.json with the aggregate tokens/s per B
(median and every sample) and the ratio to B = 1. A backend without batched
decode gets a skipped file with the reason. The curve stops where the KV
cache would not fit in half the available memory, or where the backend
refuses, and the bound is recorded.

--report-dir DIR attaches the curve to DIR/<backend>.json (the run's report).
--workload W.json (the FAK_BATCH_WORKLOAD=1 diagnostic) takes the prompt and
completion lengths from the workload's median turn, prompts capped by
FAK_WORKLOAD_PROMPT_CAP, and writes diag-batch-workload-<backend>.json.`

func runBatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("batch", batchSynopsis, stderr)
	backends := fs.String("backends", "gokernel,llamacpp,openvino", "comma-separated `list` of backends")
	modelSpec := fs.String("model", "", "`MODEL`: a .gguf file or synthetic:PRESET[:TYPE] (required)")
	out := fs.String("out", "", "output `directory` (required)")
	short := fs.Bool("short", false, "small prompts and few steps, one repetition")
	threads := fs.Int("threads", 0, "CPU threads (0 = physical cores)")
	reps := fs.Int("reps", 0, "measured repetitions per B (default 3, 1 with --short)")
	prompt := fs.Int("prompt", 0, "prompt tokens per sequence (default 64, 16 with --short)")
	steps := fs.Int("steps", 0, "decode steps per sequence (default 32, 8 with --short)")
	batches := fs.String("batches", "1,2,4,8,16,32,64", "comma-separated batch `sizes`, increasing")
	reportDir := fs.String("report-dir", "", "attach each curve to `DIR`/<backend>.json")
	wpath := fs.String("workload", "", "take prompt/completion lengths from this workload `file` (diagnostic)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	names := splitList(*backends)
	switch {
	case *modelSpec == "" || *out == "":
		return usageError(stderr, "batch", "--model and --out are required")
	case len(names) == 0:
		return usageError(stderr, "batch", "--backends is empty")
	case *threads < 0 || *reps < 0 || *prompt < 0 || *steps < 0:
		return usageError(stderr, "batch", "--threads, --reps, --prompt and --steps must be >= 0")
	}
	for _, n := range names {
		if _, err := adapters.Lookup(n); err != nil {
			return usageError(stderr, "batch", "--backends: %v", err)
		}
	}
	bs, err := parseBatches(*batches)
	if err != nil {
		return usageError(stderr, "batch", "--batches: %v", err)
	}
	def := func(v *int, full, sh int) {
		if *v == 0 {
			*v = full
			if *short {
				*v = sh
			}
		}
	}
	def(reps, 3, 1)
	def(prompt, 64, 16)
	def(steps, 32, 8)
	if *threads == 0 {
		*threads = host.PhysicalCores()
	}
	fileName := nodebench.BatchFileName
	var note string
	if *wpath != "" {
		w, err := workload.Load(*wpath)
		if err != nil {
			fmt.Fprintf(stderr, "fakbench batch: %v\n", err)
			return exitUsage
		}
		caps, err := workload.CapsFromEnv()
		if err != nil {
			fmt.Fprintf(stderr, "fakbench batch: %v\n", err)
			return exitUsage
		}
		capped, res := workload.ApplyCap(w, caps.PromptCap)
		*prompt, *steps = medianTurn(capped)
		fileName = nodebench.BatchWorkloadFileName
		note = fmt.Sprintf("workload diagnostic: prompt %d and steps %d from the median turn of %s (prompt cap %d, %d turns capped)", *prompt, *steps, *wpath, caps.PromptCap, res.CappedTurns)
	}

	model, err := resolveModel(ctx, *modelSpec, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench batch: %v\n", err)
		return exitUsage
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "fakbench batch: %v\n", err)
		return exitUsage
	}
	kvPerPos, kvWhy := kvBytesPerPosition(model.Path)
	mem, _ := host.Memory() // unknown: 0, which disables the memory bound
	memAvail := mem.AvailableBytes
	failed := false
	for _, name := range names {
		f := &batch.File{Identity: artifact.Identity{Schema: batch.Schema, Backend: name, ModelSpec: *modelSpec, ModelDigest: model.Digest,
			Threads: *threads, Short: *short}, StartedAt: time.Now().UTC().Format(time.RFC3339Nano)}
		b, status, reason := openMeasured(ctx, name, model.Path, *threads, 0)
		if b != nil {
			f.BackendVersion, f.Settings = b.Version(), b.Settings()
			bd, ok := b.(transport.BatchDecoder)
			if !ok {
				status, reason = artifact.StatusSkipped, fmt.Sprintf("backend %s does not implement transport.BatchDecoder (no batched decode)", name)
			} else {
				info := b.Info()
				opts := batch.Options{Batches: bs, PromptTokens: *prompt, Steps: *steps, Reps: *reps, Warmup: true,
					Vocab: info.VocabSize, KVBytesPerPosition: kvPerPos, MemoryBytes: memAvail / 2}
				fmt.Fprintf(stderr, "fakbench batch: %s: B=%v, prompt %d, steps %d, %d rep(s); KV %d bytes/position (%s), memory bound %d MiB\n",
					name, bs, *prompt, *steps, *reps, kvPerPos, kvWhy, memAvail/2>>20)
				c, err := batch.Measure(ctx, bd, opts)
				if err != nil {
					status, reason = artifact.StatusFailed, err.Error()
				} else {
					status, f.Curve = artifact.StatusOK, &c
				}
			}
			b.Close()
		}
		f.Status, f.Reason = status, reason
		if note != "" {
			f.Notes = append(f.Notes, note)
		}
		f.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
		switch status {
		case artifact.StatusOK:
			printCurve(stdout, name, f.Curve)
			if *reportDir != "" && *wpath == "" {
				if err := attachCurve(*reportDir, name, f.Curve); err != nil {
					fmt.Fprintf(stderr, "fakbench batch: %v\n", err)
					failed = true
				}
			}
		case artifact.StatusSkipped:
			fmt.Fprintf(stdout, "%-10s skipped: %s\n", name, f.Reason)
		default:
			failed = true
			fmt.Fprintf(stdout, "%-10s FAILED: %s\n", name, f.Reason)
		}
		if err := writeJSONFile(filepath.Join(*out, fileName(name)), f); err != nil {
			fmt.Fprintf(stderr, "fakbench batch: %v\n", err)
			return exitFailed
		}
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "fakbench batch: interrupted: %v\n", ctx.Err())
			return exitFailed
		}
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

func parseBatches(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a batch size >= 1", p)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("%v then %d: sizes must increase", out, n)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no batch sizes")
	}
	return out, nil
}

// medianTurn returns the median prompt length and the median completion
// length of a workload's turns.
func medianTurn(w workload.Workload) (int, int) {
	var p, c []int
	for _, t := range w.Turns {
		p = append(p, t.PromptTokens())
		c = append(c, t.CompletionTokens)
	}
	sort.Ints(p)
	sort.Ints(c)
	return p[len(p)/2], max(c[len(c)/2], 1)
}

func printCurve(w io.Writer, name string, c *batch.Curve) {
	fmt.Fprintf(w, "%-10s batch curve (prompt %d, %d steps, %d reps; bound: %s)\n", name, c.PromptTokens, c.Steps, c.Reps, c.Bound)
	fmt.Fprintf(w, "  %5s %12s %10s %14s %10s\n", "B", "tok/s", "vs B=1", "per sequence", "same as B=1")
	for _, p := range c.Points {
		fmt.Fprintf(w, "  %5d %12.1f %9.2fx %14.1f %10v\n", p.Batch, p.TokensPerSec, p.SpeedupVsB1, p.PerSequenceTPS, p.MatchesB1)
	}
}

// attachCurve records the curve in the run's report DIR/<backend>.json.
func attachCurve(dir, backend string, c *batch.Curve) error {
	path := filepath.Join(dir, backend+".json")
	r, err := report.ReadJSON(path)
	if err != nil {
		return fmt.Errorf("attaching the batch curve: %w", err)
	}
	r.BatchCurve = c.BatchPoints()
	r.Notes = append(r.Notes, fmt.Sprintf("batch_curve added by fakbench batch: prompt %d, %d steps, %d reps, bound: %s", c.PromptTokens, c.Steps, c.Reps, c.Bound))
	return report.WriteJSON(path, r)
}

// kvBytesPerPosition estimates the f16 KV cache bytes one position takes:
// layers x 2 (K and V) x KV heads x head size x 2 bytes, from the GGUF
// metadata. It returns 0 and the reason when the file does not say.
func kvBytesPerPosition(path string) (int64, string) {
	f, err := gguf.Open(path)
	if err != nil {
		return 0, "no memory bound: " + err.Error()
	}
	defer f.Close()
	arch, err := f.String("general.architecture")
	if err != nil {
		return 0, "no memory bound: " + err.Error()
	}
	get := func(k string) int64 {
		v, err := f.Uint(arch + "." + k)
		if err != nil {
			return 0
		}
		return int64(v)
	}
	layers, embd, heads := get("block_count"), get("embedding_length"), get("attention.head_count")
	kvHeads := get("attention.head_count_kv")
	if kvHeads == 0 {
		kvHeads = heads
	}
	if layers == 0 || embd == 0 || heads == 0 {
		return 0, "no memory bound: the model metadata lacks layer/head counts"
	}
	headDim := embd / heads
	if kl := get("attention.key_length"); kl > 0 {
		headDim = kl
	}
	return layers * 2 * kvHeads * headDim * 2, fmt.Sprintf("f16 KV: %d layers x 2 x %d KV heads x %d", layers, kvHeads, headDim)
}
