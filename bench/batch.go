package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// BatchOptions are one batch-curve run ("fakbench batch"). A zero count
// takes its default (Reps 3, Prompt 64, Steps 32; 1, 16 and 8 when Short;
// Threads the physical cores).
type BatchOptions struct {
	// Oversubscribe allows more threads than logical cores (CheckThreads).
	Oversubscribe bool
	// Backends are the registry names to measure, in order.
	Backends []string
	// ModelSpec is the model as the user gave it; Out the output directory.
	ModelSpec, Out string
	Short          bool
	// Threads, Reps, Prompt (tokens per sequence) and Steps (decode steps
	// per sequence).
	Threads, Reps, Prompt, Steps int
	// Batches are the batch sizes, increasing.
	Batches []int
	// ReportDir, when set, is the run whose DIR/<backend>.json receives
	// each curve (not with a workload).
	ReportDir string
	// Workload, when set, is the workload file whose median turn gives the
	// prompt and completion lengths (the diagnostic; its own file name).
	Workload string
	// Log receives progress and non-fatal problems (nil: none).
	Log io.Writer
	// Done, when set, is called with each backend's file before it is
	// written (for printing).
	Done func(backend string, f *batch.File)
}

// defaults fills the zero counts.
func (o *BatchOptions) defaults() {
	def := func(v *int, full, short int) {
		if *v == 0 {
			*v = full
			if o.Short {
				*v = short
			}
		}
	}
	def(&o.Reps, 3, 1)
	def(&o.Prompt, 64, 16)
	def(&o.Steps, 32, 8)
	if o.Threads == 0 {
		o.Threads = host.PhysicalCores()
	}
}

// Batch measures the batch curve of every backend and writes
// DIR/batch-<backend>.json (diag-batch-workload-<backend>.json with a
// workload). failed says a backend failed or a curve could not be attached;
// an error stops the run (*InputError: what the user asked for is wrong).
func Batch(ctx context.Context, o BatchOptions) (failed bool, err error) {
	o.defaults()
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	fileName := batch.FileName
	var note string
	var w workload.Workload
	var caps workload.Caps
	if o.Workload != "" {
		var err error
		if w, err = workload.Load(o.Workload); err != nil {
			return false, &InputError{err}
		}
		if caps, err = workload.CapsFromEnv(); err != nil {
			return false, &InputError{err}
		}
	}
	model, err := prepareModel(ctx, o.ModelSpec, o.Out, logw)
	if err != nil {
		return false, err
	}
	if o.Workload != "" {
		// Text turns need the model's tokenizer for their lengths.
		if w, err = tokenizeWorkload(w, o.Workload, model); err != nil {
			return false, &InputError{err}
		}
		capped, res := workload.ApplyCap(w, caps.PromptCap)
		o.Prompt, o.Steps = MedianTurn(capped)
		fileName = batch.WorkloadFileName
		note = fmt.Sprintf("workload diagnostic: prompt %d and steps %d from the median turn of %s (prompt cap %d, %d turns capped)", o.Prompt, o.Steps, o.Workload, caps.PromptCap, res.CappedTurns)
	}
	kvPerPos, kvWhy := KVBytesPerPosition(model.Path)
	mem, _ := host.Memory() // unknown: 0, which disables the memory bound
	memAvail := mem.AvailableBytes
	for _, name := range o.Backends {
		f := &batch.File{Identity: artifact.Identity{Schema: batch.Schema, Backend: name, ModelSpec: o.ModelSpec, ModelDigest: model.Digest,
			Threads: o.Threads, Short: o.Short}, StartedAt: time.Now().UTC().Format(time.RFC3339Nano)}
		b, status, reason := openMeasured(ctx, name, model.Path, o.Threads, 0)
		if b != nil {
			f.BackendVersion, f.Settings = b.Version(), b.Settings()
			bd, ok := b.(transport.BatchDecoder)
			if !ok {
				status, reason = artifact.StatusSkipped, fmt.Sprintf("backend %s does not implement transport.BatchDecoder (no batched decode)", name)
			} else {
				info := b.Info()
				opts := batch.Options{Batches: o.Batches, PromptTokens: o.Prompt, Steps: o.Steps, Reps: o.Reps, Warmup: true,
					Vocab: info.VocabSize, KVBytesPerPosition: kvPerPos, MemoryBytes: memAvail / 2}
				fmt.Fprintf(logw, "fakbench batch: %s: B=%v, prompt %d, steps %d, %d rep(s); KV %d bytes/position (%s), memory bound %d MiB\n",
					name, o.Batches, o.Prompt, o.Steps, o.Reps, kvPerPos, kvWhy, memAvail/2>>20)
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
		if o.Done != nil {
			o.Done(name, f)
		}
		switch status {
		case artifact.StatusOK:
			if o.ReportDir != "" && o.Workload == "" {
				if err := AttachCurve(o.ReportDir, name, f.Curve); err != nil {
					fmt.Fprintf(logw, "fakbench batch: %v\n", err)
					failed = true
				}
			}
		case artifact.StatusSkipped:
		default:
			failed = true
		}
		if err := report.WriteJSONFile(filepath.Join(o.Out, fileName(name)), f); err != nil {
			return failed, err
		}
		if ctx.Err() != nil {
			return failed, fmt.Errorf("interrupted: %w", ctx.Err())
		}
	}
	return failed, nil
}

// prepareModel resolves a model spec (ResolveModel) and makes the output
// directory; both failures are input errors unless interrupted.
func prepareModel(ctx context.Context, spec, out string, progress io.Writer) (models.Resolved, error) {
	m, err := ResolveModel(ctx, spec, progress)
	if err != nil {
		return m, &InputError{err}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return m, &InputError{err}
	}
	return m, nil
}

// MedianTurn returns the median prompt length and the median completion
// length (at least 1) of a workload's turns.
func MedianTurn(w workload.Workload) (int, int) {
	var p, c []int
	for _, t := range w.Turns {
		p = append(p, t.PromptTokens())
		c = append(c, t.CompletionTokens)
	}
	sort.Ints(p)
	sort.Ints(c)
	return p[len(p)/2], max(c[len(c)/2], 1)
}

// AttachCurve records the curve in the run's report DIR/<backend>.json.
func AttachCurve(dir, backend string, c *batch.Curve) error {
	path := filepath.Join(dir, backend+".json")
	r, err := report.ReadJSON(path)
	if err != nil {
		return fmt.Errorf("attaching the batch curve: %w", err)
	}
	r.BatchCurve = c.BatchPoints()
	r.Notes = append(r.Notes, fmt.Sprintf("batch_curve added by fakbench batch: prompt %d, %d steps, %d reps, bound: %s", c.PromptTokens, c.Steps, c.Reps, c.Bound))
	return report.WriteJSON(path, r)
}

// KVBytesPerPosition estimates the f16 KV cache bytes one position takes:
// layers x 2 (K and V) x KV heads x head size x 2 bytes, from the GGUF
// metadata. It returns 0 and the reason when the file does not say.
func KVBytesPerPosition(path string) (int64, string) {
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
