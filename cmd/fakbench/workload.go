package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/workload"
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
	w, err := workload.DeriveFile(*in, os.Stdin, workload.DeriveOptions{Source: *source, StableFraction: *frac})
	if err != nil {
		fmt.Fprintf(stderr, "fakbench workload derive: %v\n", err)
		return exitUsage
	}
	if err := w.Save(*out); err != nil {
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
		err = w.Save(*out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fakbench workload synth: %v\n", err)
		return exitFailed
	}
	d, _ := w.Digest()
	fmt.Fprintf(stdout, "wrote %s: %d turns, digest %s\n", *out, len(w.Turns), d)
	return exitOK
}

func workloadReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("workload replay", workloadSynopsis, stderr)
	var backends, modelSpec, out string
	var threads, ctxLen int
	backendsFlag(fs, &backends)
	modelFlag(fs, &modelSpec)
	outFlag(fs, &out, "workload-<backend>.json")
	wpath := fs.String("workload", defaultWorkloadPath, "workload `file`")
	short := fs.Bool("short", false, fmt.Sprintf("replay the first %d turns of each conversation once", bench.ShortReplayTurns))
	threadsFlag(fs, &threads)
	reps := fs.Int("reps", 0, "measured passes over the workload (default 3, 1 with --short)")
	ctxFlag(fs, &ctxLen)
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	o := bench.ReplayOptions{Backends: splitList(backends), ModelSpec: modelSpec, Out: out, Workload: *wpath,
		Short: *short, Threads: threads, Reps: *reps, CtxLen: ctxLen}
	if err := o.Check(); err != nil {
		return usageError(stderr, "workload replay", "%v", err)
	}
	o.Log, o.Done = stderr, func(name string, f *workload.ReplayFile) {
		switch f.Status {
		case artifact.StatusOK:
			s := f.Result.Summary
			fmt.Fprintf(stdout, "%-10s %2d turns  TTFT total %9.1f ms  median %8.1f ms  warm median %8.1f ms  hit rate %.3f  decode %7.1f tok/s\n",
				name, s.Turns, s.TTFTTotalMS, s.TTFTMedianMS, s.WarmTTFTMedianMS, s.HitRate, s.DecodeTPS)
		case artifact.StatusSkipped:
			fmt.Fprintf(stdout, "%-10s skipped: %s\n", name, f.Reason)
		default:
			fmt.Fprintf(stdout, "%-10s FAILED: %s\n", name, f.Reason)
		}
	}
	failed, err := bench.Replay(ctx, o)
	if err != nil {
		return benchError(stderr, "workload replay", err)
	}
	if failed {
		return exitFailed
	}
	return exitOK
}
