package gokernel

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/transport"
)

// BackendName is the registry name of the Go kernel.
const BackendName = "gokernel"

// ExtraChunkSize is the adapters.Options.Extra key that sets the prefill
// chunk size (a positive integer; default DefaultChunkSize).
const ExtraChunkSize = "chunk_size"

// ExtraKernels is the adapters.Options.Extra key that selects the kernel set
// (see kernels.Available: "generic" is the pure-Go set) for the backend's
// lifetime: Open switches to it and Close restores the set that was active
// before. The set is process-wide, so two backends open at once share it.
const ExtraKernels = "kernels"

// ExtraPrefixReuse is the adapters.Options.Extra key that turns prefix reuse
// on (default) or off. With "off", EnsurePrefix never reuses resident
// positions: it recomputes the whole prefix and reports ReusedTokens 0 (an
// ablation row; the warm hit rate is then 0 by design).
const ExtraPrefixReuse = "prefix_reuse"

// ExtraQ8Layout is the adapters.Options.Extra key that picks the layout
// q8_0 weights are multiplied in: "repacked" (default: q8r16 where the
// kernel set re-lays q8_0, the avx512 and amx sets) or "file" (as stored;
// the layout ablation, kernels.UseQ8FileLayout), for the backend's
// lifetime.
const ExtraQ8Layout = "q8_layout"

// extraKeys lists the Extra keys Open accepts, sorted.
var extraKeys = []string{ExtraChunkSize, ExtraKernels, ExtraPrefixReuse, ExtraQ8Layout}

func init() {
	adapters.Register(adapters.Entry{
		Name:        BackendName,
		Description: "in-repo Go kernel: Llama forward pass over f32/f16/q8_0 GGUF weights, f16 KV cache",
		Role:        adapters.RoleKernel,
		Ablations: []adapters.Ablation{
			{Name: "generic", Label: BackendName + "-generic", Extra: map[string]string{"kernels": "generic"}, Exclusive: true,
				What: "the pure-Go (generic) kernels instead of the SIMD set: what the assembly kernels buy"},
			{Name: "avx2", Label: BackendName + "-avx2", Extra: map[string]string{"kernels": "avx2"}, Exclusive: true,
				What: "the avx2 set (q8_0 in the file's layout, 256-bit int8 dot products): what AVX-512 VNNI, the q8r16 repacking and AMX tiles buy on a CPU that has them"},
			{Name: "avx512", Label: BackendName + "-avx512", Extra: map[string]string{"kernels": "avx512"}, Exclusive: true,
				What: "the avx512 set (q8_0 repacked 16 rows at a time, AVX-512 VNNI, prefill token by token): what the AMX tile multiply buys in prefill on a CPU that has it"},
			{Name: "q8-file", Label: BackendName + "-q8file", Extra: map[string]string{"q8_layout": "file"}, Exclusive: true,
				What: "q8_0 weights multiplied in the file's layout instead of re-laid 16 rows at a time (q8r16): what the repacking buys; decode then runs the 4-row VNNI kernel on the file's rows, prefill the avx2 set's 4x3 tiles (no AMX); on a set that does not repack (avx2, generic) the row equals the default"},
			{Name: "no-reuse", Label: BackendName + "-noreuse", Extra: map[string]string{"prefix_reuse": "off"},
				Expected: []string{"warm_same_prefix.hit_rate"},
				What:     "prefix reuse off: EnsurePrefix recomputes the whole prefix every time (reused 0), so warm_same_prefix.hit_rate is 0 by design and not counted as a failed run; every other check still counts"},
		},
		Open: Open,
		Caps: adapters.Caps{Logits: true, Batch: true},
		// The kernel computes every row of a batch on its own, in the same
		// order whatever the batch's size or split across threads, so a warm
		// path gives the cold path's logits bit for bit (max |diff| 0 on
		// smol135m-untied q8_0, 1024-token prefix, edit 512 back, Xeon, 2 threads);
		// 1e-4 leaves room for nothing but a real difference.
		LogitTolerance: 1e-4,
	})
}

// Backend is a Model served through the transport.Backend contract.
type Backend struct {
	m       *Model
	threads string // where the thread count came from
	noReuse bool   // prefix_reuse=off: sessions never reuse resident positions

	// restoreKernels is the kernel set to restore on Close when Open
	// switched it ("" when it did not); restored guards against doing it twice.
	restoreKernels string
	restoreOnce    sync.Once
}

var _ transport.Backend = (*Backend)(nil)

// Open loads opts.ModelPath, a .gguf file (model specs are resolved to
// files by package models before any backend sees them), on the Go kernel.
// Threads default to the physical cores (internal/host), the context length to min(model context, 4096).
// opts.Extra["chunk_size"] sets the prefill chunk, opts.Extra["kernels"]
// the kernel set for the backend's lifetime and opts.Extra["prefix_reuse"]
// ("on" or "off") whether sessions reuse resident prefix positions. A bad
// option is an error naming it; a bad file is a *transport.BadModelError.
func Open(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.ModelPath == "" {
		return nil, fmt.Errorf("gokernel: no model path given")
	}
	mo := Options{Threads: opts.Threads, ContextLength: opts.ContextLength}
	keys := make([]string, 0, len(opts.Extra))
	for k := range opts.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic errors
	var kernelSet string
	noReuse, fileLayout := false, false
	for _, k := range keys {
		v := strings.TrimSpace(opts.Extra[k])
		switch k {
		case ExtraChunkSize:
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("gokernel: option %s=%q: want a positive integer", k, v)
			}
			mo.ChunkSize = n
		case ExtraKernels:
			if err := kernels.Check(v); err != nil {
				return nil, fmt.Errorf("gokernel: option %s=%q: %w", k, v, err)
			}
			kernelSet = v
		case ExtraQ8Layout:
			switch strings.ToLower(v) {
			case "repacked":
				fileLayout = false
			case "file":
				fileLayout = true
			default:
				return nil, fmt.Errorf("gokernel: option %s=%q: want repacked or file", k, v)
			}
		case ExtraPrefixReuse:
			switch strings.ToLower(v) {
			case "on", "true", "1":
				noReuse = false
			case "off", "false", "0":
				noReuse = true
			default:
				return nil, fmt.Errorf("gokernel: option %s=%q: want on or off", k, v)
			}
		default:
			return nil, fmt.Errorf("gokernel: unknown option %q (known: %s)", k, strings.Join(extraKeys, ", "))
		}
	}
	if opts.Threads < 0 {
		return nil, fmt.Errorf("gokernel: threads %d: want >= 0", opts.Threads)
	}
	if opts.ContextLength < 0 {
		return nil, fmt.Errorf("gokernel: context length %d: want >= 0", opts.ContextLength)
	}
	if err := kernels.EnvError(); err != nil {
		// FAK_KERNEL named a set this CPU cannot run: a row measured with
		// another set than the one asked for would be mislabelled.
		return nil, fmt.Errorf("gokernel: %w", err)
	}
	src := "--threads"
	if opts.Threads == 0 {
		src = "physical cores"
	}
	b := &Backend{threads: src, noReuse: noReuse}
	// The set is switched before the model loads: the weights are laid
	// out for the set active then (kernels.Matrix.Prepare).
	if kernelSet != "" {
		prev := kernels.Name()
		if err := kernels.Use(kernelSet); err != nil {
			return nil, fmt.Errorf("gokernel: option %s=%q: %w", ExtraKernels, kernelSet, err)
		}
		b.restoreKernels = prev
	}
	prevLayout := kernels.UseQ8FileLayout(fileLayout)
	m, err := Load(opts.ModelPath, mo)
	// The layout is read while the matrices are prepared, at the load: the
	// process-wide default is back before anything else loads.
	kernels.UseQ8FileLayout(prevLayout)
	if err != nil {
		if b.restoreKernels != "" {
			_ = kernels.Use(b.restoreKernels)
		}
		return nil, err
	}
	b.m = m
	return b, nil
}

// NewBackend serves an already loaded model. The Backend takes ownership:
// its Close closes m.
func NewBackend(m *Model) *Backend { return &Backend{m: m, threads: "Options.Threads"} }

// Model returns the loaded model.
func (b *Backend) Model() *Model { return b.m }

// Name is "gokernel".
func (b *Backend) Name() string { return BackendName }

// Version names the kernel set and the build: "gokernel/<kernels>" then
// the module version, VCS revision and Go version when the binary has them.
func (b *Backend) Version() string {
	v := BackendName + "/" + kernels.Name()
	var parts []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		parts = append(parts, bi.Main.Path+"@"+bi.Main.Version)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				parts = append(parts, "rev "+s.Value[:min(len(s.Value), 12)])
			case "vcs.modified":
				if s.Value == "true" {
					parts = append(parts, "modified")
				}
			}
		}
	}
	parts = append(parts, runtime.Version())
	return v + " (" + strings.Join(parts, ", ") + ")"
}

// Settings records what matters to reproduce a row. "kernels" names the
// kernel set that runs and "isa" the CPU features its code executes
// (kernels.ISA: "avx2,fma,f16c" for the assembly set, "" for pure Go).
func (b *Backend) Settings() map[string]string {
	m := b.m
	return map[string]string{
		"threads":         strconv.Itoa(m.Threads()),
		"threads_source":  b.threads,
		"n_ctx":           strconv.Itoa(m.ContextLength()),
		"chunk_size":      strconv.Itoa(m.ChunkSize()),
		"type_k":          "f16",
		"type_v":          "f16",
		"kernels":         kernels.Name(),
		"isa":             kernels.ISA(),
		"prefix_reuse":    onOff(!b.noReuse),
		"attention":       fmt.Sprintf("online softmax per KV-head group, blocks of %d keys, a decode token's keys split across the threads", attnBlock),
		"weight_type":     m.WeightType(),
		"tied_embeddings": strconv.FormatBool(m.Tied),
		"goarch":          runtime.GOARCH,
	}
}

// Info describes the loaded model.
func (b *Backend) Info() transport.ModelInfo {
	m := b.m
	name := m.Name
	if name == "" {
		name = filepath.Base(m.Path)
	}
	return transport.ModelInfo{
		Path:          m.Path,
		Name:          name,
		Architecture:  "llama",
		ContextLength: m.ContextLength(),
		VocabSize:     m.HP.Vocab,
		Parameters:    m.Parameters(),
		WeightBytes:   m.WeightBytes(),
		WeightType:    m.WeightType(),
	}
}

// NewSession opens a session with an empty cache.
func (b *Backend) NewSession(ctx context.Context) (transport.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := b.m.newSession(b.noReuse)
	if err != nil {
		return nil, err // a nil interface, not a nil *Session
	}
	return s, nil
}

// Close frees the model, and restores the kernel set that was active before
// Open when opts.Extra["kernels"] switched it; sessions still open fail with
// transport.ErrClosed. It is idempotent.
func (b *Backend) Close() error {
	err := b.m.Close()
	b.restoreOnce.Do(func() {
		if b.restoreKernels != "" {
			if uerr := kernels.Use(b.restoreKernels); uerr != nil && err == nil {
				err = fmt.Errorf("gokernel: restoring kernel set %q: %w", b.restoreKernels, uerr)
			}
		}
	})
	return err
}

// onOff renders a switch as "on" or "off".
func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
