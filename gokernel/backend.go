package gokernel

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/gokernel/synth"
	"github.com/fakbench/fakbench/transport"
)

// BackendName is the registry name of the Go kernel.
const BackendName = "gokernel"

// ExtraChunkSize is the adapters.Options.Extra key that sets the prefill
// chunk size (a positive integer; default DefaultChunkSize).
const ExtraChunkSize = "chunk_size"

func init() {
	adapters.Register(adapters.Entry{
		Name:        BackendName,
		Description: "in-repo Go kernel: Llama forward pass over f32/f16/q8_0 GGUF weights, f32 KV cache",
		Open:        Open,
		Caps:        adapters.Caps{Logits: true, Batch: true},
	})
}

// Backend is a Model served through the transport.Backend contract.
type Backend struct {
	m       *Model
	threads string // where the thread count came from
}

var _ transport.Backend = (*Backend)(nil)

// Open loads opts.ModelPath (a .gguf file, or a synthetic:PRESET[:TYPE] or
// real:NAME spec resolved through package synth) on the Go kernel. Threads default to
// runtime.NumCPU(), the context length to min(model context, 4096), and
// opts.Extra["chunk_size"] sets the prefill chunk. A bad option is an
// error naming it; a bad file is a *transport.BadModelError.
func Open(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.ModelPath == "" {
		return nil, fmt.Errorf("gokernel: no model path given")
	}
	mo := Options{Threads: opts.Threads, ContextLength: opts.ContextLength}
	for k, v := range opts.Extra {
		switch k {
		case ExtraChunkSize:
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("gokernel: option %s=%q: want a positive integer", k, v)
			}
			mo.ChunkSize = n
		default:
			return nil, fmt.Errorf("gokernel: unknown option %q (known: %s)", k, ExtraChunkSize)
		}
	}
	var err error
	if opts.Threads < 0 {
		return nil, fmt.Errorf("gokernel: threads %d: want >= 0", opts.Threads)
	}
	if opts.ContextLength < 0 {
		return nil, fmt.Errorf("gokernel: context length %d: want >= 0", opts.ContextLength)
	}
	path := opts.ModelPath
	if strings.HasPrefix(path, synth.SpecPrefix) || strings.HasPrefix(path, synth.RealPrefix) {
		// A model spec rather than a file: generate or locate the file.
		if path, err = synth.ResolveModel(path); err != nil {
			return nil, err
		}
	}
	m, err := Load(path, mo)
	if err != nil {
		return nil, err
	}
	src := "--threads"
	if opts.Threads == 0 {
		src = "runtime.NumCPU()"
	}
	return &Backend{m: m, threads: src}, nil
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

// Settings records what matters to reproduce a row.
func (b *Backend) Settings() map[string]string {
	m := b.m
	return map[string]string{
		"threads":         strconv.Itoa(m.Threads()),
		"threads_source":  b.threads,
		"n_ctx":           strconv.Itoa(m.ContextLength()),
		"chunk_size":      strconv.Itoa(m.ChunkSize()),
		"type_k":          "f32",
		"type_v":          "f32",
		"kernels":         kernels.Name(),
		"attention":       fmt.Sprintf("online softmax, blocks of %d keys", attnBlock),
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
	s, err := b.m.NewSession()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close frees the model; sessions still open fail with transport.ErrClosed.
func (b *Backend) Close() error { return b.m.Close() }
