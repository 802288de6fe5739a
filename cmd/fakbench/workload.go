package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

func init() {
	register(command{
		name:    "workload",
		summary: "pinned agent workloads: derive from a request log, show, synth, replay on backends",
		run:     runWorkload,
	})
}

// defaultWorkloadPath is the pinned workload shipped with the repository.
const defaultWorkloadPath = "experiments/agent-live/production-workload.json"

const workloadSynopsis = `usage: fakbench workload derive --in LOG.jsonl --out W.json [--source TEXT] [--stable-fraction F]
       fakbench workload show W.json
       fakbench workload synth --out W.json
       fakbench workload replay --model MODEL --out DIR [--workload W.json] [--backends LIST]
                                [--short] [--threads N] [--reps N] [--ctx N]

derive   builds a workload from a request log you recorded: JSON lines holding
         OpenAI-compatible "usage" objects (prompt_tokens, completion_tokens,
         prompt_tokens_details.cached_tokens) or llama.cpp server "timings"
         (prompt_n, predicted_n, cache_n); an optional "conversation",
         "conversation_id" or "session_id" groups turns.
show     validates a workload and prints its shape, digest and provenance.
synth    regenerates the default synthetic coding-agent workload.
replay   replays the workload on live sessions of each backend (deterministic
         token IDs at the recorded lengths) and writes DIR/workload-<backend>.json.
         FAK_WORKLOAD_PREFILL_CAP (unset or 0 = uncapped) cuts replayed prompts.`

func runWorkload(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, workloadSynopsis)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stderr, workloadSynopsis)
		return exitOK
	case "derive":
		return workloadDerive(args[1:], stdout, stderr)
	case "show":
		return workloadShow(args[1:], stdout, stderr)
	case "synth":
		return workloadSynth(args[1:], stdout, stderr)
	case "replay":
		return workloadReplay(ctx, args[1:], stdout, stderr)
	}
	return usageError(stderr, "workload", "unknown subcommand %q (derive, show, synth, replay)", args[0])
}

func writeWorkload(path string, w workload.Workload) error {
	b, err := w.MarshalIndent()
	if err != nil {
		return err
	}
	return report.WriteFileAtomic(path, b)
}

func workloadDerive(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("workload derive", workloadSynopsis, stderr)
	in := fs.String("in", "", "request log `file` (JSON lines); - reads stdin")
	out := fs.String("out", "", "workload `file` to write")
	source := fs.String("source", "", "provenance source `text` (default: the log file name)")
	frac := fs.Float64("stable-fraction", 0, "stable share of a prompt when the log says nothing about reuse (0 = treat it as cold)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *in == "" || *out == "" {
		return usageError(stderr, "workload derive", "both --in and --out are required")
	}
	var r io.Reader = os.Stdin
	src := *source
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			fmt.Fprintf(stderr, "fakbench workload derive: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		r = f
		if src == "" {
			src = "request log " + filepath.Base(*in)
		}
	}
	w, err := workload.Derive(r, workload.DeriveOptions{Source: src, StableFraction: *frac})
	if err != nil {
		fmt.Fprintf(stderr, "fakbench workload derive: %s: %v\n", *in, err)
		return exitUsage
	}
	if err := writeWorkload(*out, w); err != nil {
		fmt.Fprintf(stderr, "fakbench workload derive: %v\n", err)
		return exitFailed
	}
	d, _ := w.Digest()
	s := w.Stats()
	fmt.Fprintf(stdout, "wrote %s: %d turns in %d conversation(s), max prompt %d tokens, digest %s\n", *out, s.Turns, s.Conversations, s.MaxPromptTokens, d)
	return exitOK
}

func workloadShow(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("workload show", workloadSynopsis, stderr)
	pos, code, ok := parseFlags(fs, args, 1)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "workload show", "name one workload file")
	}
	w, err := workload.Load(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "fakbench workload show: %v\n", err)
		return exitUsage
	}
	d, _ := w.Digest()
	s := w.Stats()
	fmt.Fprintf(stdout, "workload %s\n  digest      %s\n  source      %s\n  method      %s\n  created     %s\n", pos[0], d, w.Provenance.Source, w.Provenance.Method, w.Provenance.CreatedAt)
	for _, n := range w.Provenance.Notes {
		fmt.Fprintf(stdout, "  note        %s\n", n)
	}
	fmt.Fprintf(stdout, "  turns       %d in %d conversation(s)\n  tokens      stable %d, suffix %d, completion %d\n  max prompt  %d (with completion %d)\n\n",
		s.Turns, s.Conversations, s.StableTokens, s.SuffixTokens, s.CompletionTokens, s.MaxPromptTokens, s.MaxContextTokens)
	fmt.Fprintf(stdout, "%4s  %-14s %8s %8s %10s\n", "turn", "conversation", "stable", "suffix", "completion")
	for i, t := range w.Turns {
		fmt.Fprintf(stdout, "%4d  %-14s %8d %8d %10d\n", i, t.Conversation, t.StableTokens, t.SuffixTokens, t.CompletionTokens)
	}
	return exitOK
}

func workloadSynth(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("workload synth", workloadSynopsis, stderr)
	out := fs.String("out", "", "workload `file` to write")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *out == "" {
		return usageError(stderr, "workload synth", "--out is required")
	}
	w, err := workload.Synthesize(workload.DefaultSynthParams(), time.Now())
	if err == nil {
		err = writeWorkload(*out, w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fakbench workload synth: %v\n", err)
		return exitFailed
	}
	d, _ := w.Digest()
	fmt.Fprintf(stdout, "wrote %s: %d turns, digest %s\n", *out, len(w.Turns), d)
	return exitOK
}

// shortReplayTurns is how many turns per conversation a --short replay keeps.
const shortReplayTurns = 2

func workloadReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("workload replay", workloadSynopsis, stderr)
	backends := fs.String("backends", "gokernel,llamacpp,openvino", "comma-separated `list` of backends")
	modelSpec := fs.String("model", "", "`MODEL`: a .gguf file or synthetic:PRESET[:TYPE] (required)")
	out := fs.String("out", "", "output `directory` (required)")
	wpath := fs.String("workload", defaultWorkloadPath, "workload `file`")
	short := fs.Bool("short", false, fmt.Sprintf("replay the first %d turns of each conversation once", shortReplayTurns))
	threads := fs.Int("threads", 0, "CPU threads (0 = physical cores)")
	reps := fs.Int("reps", 0, "measured passes over the workload (default 3, 1 with --short)")
	ctxLen := fs.Int("ctx", 0, "context length per session (0 = the backend's default)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	names := splitList(*backends)
	switch {
	case *modelSpec == "" || *out == "":
		return usageError(stderr, "workload replay", "--model and --out are required")
	case len(names) == 0:
		return usageError(stderr, "workload replay", "--backends is empty")
	case *threads < 0 || *reps < 0 || *ctxLen < 0:
		return usageError(stderr, "workload replay", "--threads, --reps and --ctx must be >= 0")
	}
	for _, n := range names {
		if _, err := adapters.Lookup(n); err != nil {
			return usageError(stderr, "workload replay", "--backends: %v", err)
		}
	}
	if *reps == 0 {
		*reps = 3
		if *short {
			*reps = 1
		}
	}
	if *threads == 0 {
		*threads = host.PhysicalCores()
	}
	w, err := workload.Load(*wpath)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench workload replay: %v\n", err)
		return exitUsage
	}
	caps, err := workload.CapsFromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "fakbench workload replay: %v\n", err)
		return exitUsage
	}
	pinnedDigest, _ := w.Digest()
	replayed := w
	if *short {
		replayed = workload.Head(replayed, shortReplayTurns)
	}
	replayed, capRes := workload.ApplyCap(replayed, caps.PrefillCap)
	replayedDigest, _ := replayed.Digest()

	model, err := resolveModel(ctx, *modelSpec, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench workload replay: %v\n", err)
		return exitUsage
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "fakbench workload replay: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "fakbench workload replay: %s: %d of %d turns, caps %+v (%d turns capped), %d pass(es)\n",
		*wpath, len(replayed.Turns), len(w.Turns), caps, capRes.CappedTurns, *reps)

	failed := false
	for _, name := range names {
		f := &workload.ReplayFile{
			Identity: artifact.Identity{Schema: workload.ReplaySchema, Backend: name, ModelSpec: *modelSpec, ModelDigest: model.Digest,
				Threads: *threads, Short: *short},
			Reps: *reps, WorkloadPath: *wpath, WorkloadDigest: pinnedDigest,
			ReplayedDigest: replayedDigest, WorkloadTurns: len(w.Turns), ReplayedTurns: len(replayed.Turns),
			Caps: caps, PrefillCap: capRes, StartedAt: time.Now().UTC().Format(time.RFC3339Nano),
		}
		b, status, reason := openMeasured(ctx, name, model.Path, *threads, *ctxLen)
		if b != nil {
			f.BackendVersion = b.Version()
			info := b.Info()
			f.ContextLength = info.ContextLength
			fmt.Fprintf(stderr, "fakbench workload replay: %s: replaying\n", name)
			res, err := workload.Replay(ctx, b.NewSession, replayed, workload.ReplayOptions{
				Vocab: info.VocabSize, ContextLength: info.ContextLength, Reps: *reps, Warmup: true,
			})
			b.Close()
			if err != nil {
				status, reason = artifact.StatusFailed, err.Error()
			} else {
				status, f.Result = artifact.StatusOK, &res
				if p := f.Problems(); len(p) > 0 {
					status, reason = artifact.StatusFailed, strings.Join(p, "; ")
				}
			}
		}
		f.Status, f.Reason = status, reason
		f.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
		switch status {
		case artifact.StatusOK:
			s := f.Result.Summary
			fmt.Fprintf(stdout, "%-10s %2d turns  TTFT total %9.1f ms  median %8.1f ms  warm median %8.1f ms  hit rate %.3f  decode %7.1f tok/s\n",
				name, s.Turns, s.TTFTTotalMS, s.TTFTMedianMS, s.WarmTTFTMedianMS, s.HitRate, s.DecodeTPS)
		case artifact.StatusSkipped:
			fmt.Fprintf(stdout, "%-10s skipped: %s\n", name, reason)
		default:
			failed = true
			fmt.Fprintf(stdout, "%-10s FAILED: %s\n", name, reason)
		}
		if err := writeJSONFile(filepath.Join(*out, nodebench.ReplayFileName(name)), f); err != nil {
			fmt.Fprintf(stderr, "fakbench workload replay: %v\n", err)
			return exitFailed
		}
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "fakbench workload replay: interrupted: %v\n", ctx.Err())
			return exitFailed
		}
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

// openMeasured opens a backend for a measurement. It returns the backend,
// or nil with the status ("skipped" for an engine that cannot run here,
// "failed" otherwise) and the reason.
func openMeasured(ctx context.Context, name, modelPath string, threads, ctxLen int) (transport.Backend, string, string) {
	b, err := adapters.Open(ctx, name, adapters.Options{ModelPath: modelPath, Threads: threads, ContextLength: ctxLen, Profile: "tuned"})
	switch {
	case err == nil:
		return b, "", ""
	case transport.IsUnavailable(err):
		return nil, "skipped", err.Error()
	case errors.Is(err, context.Canceled):
		return nil, "failed", "interrupted: " + err.Error()
	}
	return nil, "failed", "open: " + err.Error()
}

// writeJSONFile writes v as indented JSON through a temporary file and a
// rename.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return report.WriteFileAtomic(path, append(b, '\n'))
}
