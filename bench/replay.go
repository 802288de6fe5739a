package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
)

// ShortReplayTurns is how many turns per conversation a short replay keeps.
const ShortReplayTurns = 2

// ReplayOptions are one workload replay ("fakbench workload replay"). A
// zero count takes its default (Reps 3, 1 when Short; Threads the physical
// cores; CtxLen the backend's default).
type ReplayOptions struct {
	// Oversubscribe allows more threads than logical cores (CheckThreads).
	Oversubscribe bool
	// Backends are the registry names to replay on, in order.
	Backends []string
	// ModelSpec is the model as the user gave it; Out the output
	// directory; Workload the workload file.
	ModelSpec, Out, Workload string
	// Short replays the first ShortReplayTurns turns of each conversation.
	Short                 bool
	Threads, Reps, CtxLen int
	// Log receives progress lines (nil: none).
	Log io.Writer
	// Done, when set, is called with each backend's file before it is
	// written (for printing).
	Done func(backend string, f *workload.ReplayFile)
}

// Replay replays the workload on live sessions of every backend and writes
// DIR/workload-<backend>.json. failed says a backend failed; an error stops
// the run (*InputError: what the user asked for is wrong).
func Replay(ctx context.Context, o ReplayOptions) (failed bool, err error) {
	if o.Reps == 0 {
		o.Reps = 3
		if o.Short {
			o.Reps = 1
		}
	}
	if o.Threads == 0 {
		o.Threads = host.PhysicalCores()
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	w, err := workload.Load(o.Workload)
	if err != nil {
		return false, &InputError{err}
	}
	caps, err := workload.CapsFromEnv()
	if err != nil {
		return false, &InputError{err}
	}
	pinnedDigest, _ := w.Digest()
	model, err := prepareModel(ctx, o.ModelSpec, o.Out, logw)
	if err != nil {
		return false, err
	}
	// Text turns become token IDs here: the replayed digest then records
	// their token counts too.
	replayed, err := tokenizeWorkload(w, o.Workload, model)
	if err != nil {
		return false, &InputError{err}
	}
	if o.Short {
		replayed = workload.Head(replayed, ShortReplayTurns)
	}
	replayed, capRes := workload.ApplyCap(replayed, caps.PrefillCap)
	replayedDigest, _ := replayed.Digest()
	fmt.Fprintf(logw, "fakbench workload replay: %s: %d of %d turns, caps %+v (%d turns capped), %d pass(es)\n",
		o.Workload, len(replayed.Turns), len(w.Turns), caps, capRes.CappedTurns, o.Reps)

	for _, name := range o.Backends {
		f := &workload.ReplayFile{
			Identity: artifact.Identity{Schema: workload.ReplaySchema, Backend: name, ModelSpec: o.ModelSpec, ModelDigest: model.Digest,
				Threads: o.Threads, Short: o.Short},
			Reps: o.Reps, WorkloadPath: o.Workload, WorkloadDigest: pinnedDigest,
			ReplayedDigest: replayedDigest, WorkloadTurns: len(w.Turns), ReplayedTurns: len(replayed.Turns),
			Caps: caps, PrefillCap: capRes, StartedAt: time.Now().UTC().Format(time.RFC3339Nano),
		}
		b, status, reason := openMeasured(ctx, name, model.Path, o.Threads, o.CtxLen)
		if b != nil {
			f.BackendVersion = b.Version()
			info := b.Info()
			f.ContextLength = info.ContextLength
			fmt.Fprintf(logw, "fakbench workload replay: %s: replaying\n", name)
			res, err := workload.Replay(ctx, b.NewSession, replayed, workload.ReplayOptions{
				Vocab: info.VocabSize, ContextLength: info.ContextLength, Reps: o.Reps, Warmup: true,
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
		if o.Done != nil {
			o.Done(name, f)
		}
		if status != artifact.StatusOK && status != artifact.StatusSkipped {
			failed = true
		}
		if err := report.WriteJSONFile(filepath.Join(o.Out, workload.ReplayFileName(name)), f); err != nil {
			return failed, err
		}
		if ctx.Err() != nil {
			return failed, fmt.Errorf("interrupted: %w", ctx.Err())
		}
	}
	return failed, nil
}

// tokenizeWorkload tokenizes the text turns of the workload read from
// path with the tokenizer of model m; a workload without text is returned
// as it is.
func tokenizeWorkload(w workload.Workload, path string, m models.Resolved) (workload.Workload, error) {
	if !w.HasText() {
		return w, nil
	}
	tk, err := openTokenizer(m.Path, m.Spec)
	if err != nil {
		return w, fmt.Errorf("workload %s has text: %w", path, err)
	}
	defer tk.Close()
	out, err := w.Tokenize(tk)
	if err != nil {
		return w, fmt.Errorf("workload %s: %w", path, err)
	}
	return out, nil
}
