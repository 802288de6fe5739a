// Package llamacpp is the llama.cpp backend: a thin cgo layer over llama.h
// (every C call sits in native.go) and, above it in plain Go, the
// transport.Session contract, the tuned and untuned settings profiles and a
// transport.BatchDecoder.
//
// llama.cpp and ggml are compiled from the Go module github.com/ollama/ollama
// (its llama/llama.cpp/src and ml/backend/ggml/ggml/src packages); the
// tuned build uses CGO_CFLAGS/CGO_CXXFLAGS "-O3 -march=native" (the
// Makefile exports them). The backend registers itself as "llamacpp".
//
// Design: one llama_context per session. Each session owns its KV cache,
// compute buffers, logits and abort flag, so sessions on one model are
// independent (one can be cancelled or closed without touching another),
// position bookkeeping is a plain slice of resident tokens, and Close
// returns the session's memory at once. The weights (llama_model) are shared
// by every session of a Backend.
package llamacpp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/transport"
)

// Name is the registry name of this backend.
const Name = "llamacpp"

// LlamaCommit is the llama.cpp commit the ollama module vendors (its
// Makefile.sync FETCH_HEAD and llama/build-info.cpp LLAMA_COMMIT). The
// package cannot link build-info.cpp (it lives in the ollama llama package,
// which is not imported), so the value is pinned here and a test checks it
// against the module source.
const LlamaCommit = "ec98e2002"

// ollamaModule is the Go module that supplies the native sources.
const ollamaModule = "github.com/ollama/ollama"

// ollamaModuleFallback is the module version in go.mod, used when the
// binary carries no build information.
const ollamaModuleFallback = "v0.17.4"

func init() {
	adapters.Register(adapters.Entry{
		Name:        Name,
		Description: "llama.cpp " + LlamaCommit + " through cgo (tuned profile by default; \"untuned\" = library defaults)",
		Display:     "llama.cpp",
		Role:        adapters.RoleReference,
		SweepGrid:   DefaultSweepGrid,
		Untuned:     true,
		Open:        Open,
		Caps:        adapters.Caps{Logits: true, Batch: true, Native: true},
		// ggml may pick another matmul path by batch size (vector, repacked,
		// AMX tiles), and an edited recompute runs a smaller batch than the
		// cold prefill, so float rounding may differ; measured max |diff| 0
		// all the same (smol135m-untied q8_0, 1024-token prefix, edit 512 back, AMX
		// Xeon), against 0.03 to 0.06 between the runs that must differ.
		LogitTolerance: 1e-3,
		Available:      Available,
	})
}

// DefaultSweepGrid is the settings grid "fakbench tune" and "run --sweep"
// measure by default: flash attention on/off (it slowed long-context
// prefill and sped up short-context decode on the development node) by
// n_ubatch 256/512 by the extra weight buffer types on/off (AMX tiles on an
// AMX Xeon, interleaved-row repacking of some quant types). Each section of
// the tuned row takes its best configuration, so flash attention and the
// buffer types are chosen for decode as well as for prefill.
const DefaultSweepGrid = "flash_attn=on,off;n_ubatch=256,512;extra_bufts=on,off"

// Available reports whether llama.cpp is compiled into this binary.
func Available() error {
	if !nativeCompiled {
		return &transport.UnavailableError{Backend: Name, Reason: "built without cgo (CGO_ENABLED=0), so llama.cpp is not compiled in"}
	}
	return checkBuildCPU() // and this CPU has every feature it was compiled for (buildcheck.go)
}

// Backend is a GGUF model loaded by llama.cpp. It implements
// transport.Backend and transport.BatchDecoder.
type Backend struct {
	mu       sync.Mutex
	model    *nativeModel
	cfg      config
	meta     modelMeta
	info     transport.ModelInfo
	limit    int
	settings map[string]string
	sessions map[*Session]struct{}
	// inflight counts DecodeBatch calls holding a context on the model.
	inflight sync.WaitGroup
	closed   bool
}

// Open validates opts.ModelPath with the in-repo GGUF reader (so a bad or
// truncated file is refused before llama.cpp sees it) and loads it with the
// settings profile opts.Profile (default "tuned").
func Open(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.ModelPath == "" {
		return nil, fmt.Errorf("llamacpp: no model path given")
	}
	if err := nativeInit(); err != nil {
		return nil, err
	}
	cfg, err := resolveConfig(opts, nativeContextDefaults(), host.PhysicalCores())
	if err != nil {
		return nil, err
	}
	weightType, shapes, err := checkModelFile(opts.ModelPath)
	if err != nil {
		return nil, err
	}
	m, loadLog, err := loadModel(opts.ModelPath, cfg.mmap, cfg.extraBufts)
	if err != nil {
		return nil, &transport.BadModelError{File: opts.ModelPath, Reason: "llama.cpp cannot load it", Err: err}
	}
	meta := m.meta()
	if meta.nVocab <= 0 {
		m.free()
		return nil, &transport.BadModelError{File: opts.ModelPath, Reason: "llama.cpp reports an empty vocabulary, so there are no logits to read"}
	}
	b := &Backend{
		model:    m,
		cfg:      cfg,
		meta:     meta,
		limit:    cfg.contextLimit(meta.nCtxTrain),
		sessions: map[*Session]struct{}{},
	}
	name := meta.name
	if name == "" {
		name = filepath.Base(opts.ModelPath)
	}
	b.info = transport.ModelInfo{
		Path:          opts.ModelPath,
		Name:          name,
		Architecture:  meta.arch,
		ContextLength: b.limit,
		VocabSize:     meta.nVocab,
		Parameters:    meta.nParams,
		WeightBytes:   meta.size,
		WeightType:    weightType,
	}
	b.settings = b.buildSettings()
	buffers := weightBuffers(loadLog)
	b.settings["weight_buffers"] = formatBuffers(buffers)
	b.settings["amx"] = currentAMXFacts(cfg.extraBufts, shapes, buffers).verdict()
	b.settings["isa"] = isaFromSystemInfo(b.settings["system_info"], buffers["AMX"] > 0)
	addBuildCPUSettings(b.settings)
	return b, nil
}

// checkModelFile parses and validates the GGUF file with the in-repo
// reader and returns its dominant weight type. A llama-architecture file
// must pass gguf.ReadLlamaParams, the checks every backend applies, so that
// nothing llama.cpp asserts on (a NaN RMS epsilon aborts the process in
// ggml) reaches it. Every failure is a *transport.BadModelError naming the
// file.
func checkModelFile(path string) (string, amxShapes, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return "", amxShapes{}, badGGUF(err)
	}
	defer f.Close()
	arch, err := f.String("general.architecture")
	if err != nil || arch == "" {
		return "", amxShapes{}, &transport.BadModelError{File: path, Reason: "no general.architecture key", Err: err}
	}
	if arch == "llama" {
		if _, err := gguf.ReadLlamaParams(f); err != nil {
			return "", amxShapes{}, badGGUF(err)
		}
	}
	if len(f.Tensors) == 0 {
		return "", amxShapes{}, &transport.BadModelError{File: path, Reason: "no tensors"}
	}
	return dominantType(f.Tensors), analyzeAMX(f.Tensors), nil
}

// badGGUF returns an error of the GGUF reader as the bad-model error the
// backend contract asks for, with the same text.
func badGGUF(err error) error {
	if ge, ok := errors.AsType[*gguf.Error](err); ok {
		return &transport.BadModelError{File: ge.File, Reason: ge.Reason, Err: ge.Err}
	}
	return err
}

// dominantType is the tensor type holding the most elements among the 2-D
// weight matrices (the type decode reads), or among all tensors when none
// is 2-D.
func dominantType(ts []gguf.TensorInfo) string {
	count := map[string]uint64{}
	for pass := 0; pass < 2 && len(count) == 0; pass++ {
		for _, t := range ts {
			if pass == 0 && len(t.Dims) != 2 {
				continue
			}
			n := uint64(1)
			for _, d := range t.Dims {
				n *= d
			}
			count[t.Type.String()] += n
		}
	}
	best, bestN := "", uint64(0)
	for name, n := range count {
		if n > bestN || (n == bestN && name < best) {
			best, bestN = name, n
		}
	}
	return best
}

// Name implements transport.Backend.
func (b *Backend) Name() string { return Name }

// Version is the llama.cpp commit compiled in and the Go module that
// supplied it, e.g. "llama.cpp ec98e2002 (ollama-module@v0.17.4)".
func (b *Backend) Version() string {
	return fmt.Sprintf("llama.cpp %s (ollama-module@%s)", LlamaCommit, ollamaModuleVersion())
}

// ollamaModuleVersion reads the ollama module version from the binary's
// build information.
func ollamaModuleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == ollamaModule {
				if d.Replace != nil {
					return d.Replace.Version + " (replaces " + d.Version + ")"
				}
				return d.Version
			}
		}
	}
	return ollamaModuleFallback
}

// buildFlags are the cgo compiler flags the binary was built with, from its
// build information (go build records CGO_CFLAGS and CGO_CXXFLAGS), and
// where they came from.
func buildFlags() (flags, source string) {
	var parts []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "CGO_CFLAGS", "CGO_CXXFLAGS", "CGO_CPPFLAGS":
				parts = append(parts, s.Key+"="+s.Value)
			}
		}
	}
	sort.Strings(parts)
	if len(parts) > 0 {
		return strings.Join(parts, " "), "go build info"
	}
	return "", "not recorded in this binary's build info (test binaries omit it); see system_info for the CPU features compiled in"
}

// Settings are every setting that matters to reproduce a row, as
// llama-bench records them.
func (b *Backend) Settings() map[string]string {
	out := make(map[string]string, len(b.settings))
	for k, v := range b.settings {
		out[k] = v
	}
	return out
}

func (b *Backend) buildSettings() map[string]string {
	c := b.cfg
	flags, src := buildFlags()
	return map[string]string{
		"profile":          c.profile,
		"threads":          strconv.Itoa(c.threads),
		"threads_batch":    strconv.Itoa(c.threads),
		"threads_source":   c.threadsNote,
		"n_ctx":            strconv.Itoa(b.limit),
		"n_batch":          strconv.Itoa(c.nBatch),
		"n_ubatch":         strconv.Itoa(c.nUbatch),
		"flash_attn":       flashName(c.flashAttn),
		"type_k":           c.typeK,
		"type_v":           c.typeV,
		"mmap":             strconv.FormatBool(c.mmap),
		"extra_bufts":      onOff(c.extraBufts),
		"threadpool":       strconv.FormatBool(c.threadpool),
		"poll":             strconv.Itoa(c.poll),
		"n_gpu_layers":     "0",
		"build_flags":      flags,
		"build_flags_from": src,
		"system_info":      strings.TrimSpace(nativeSystemInfo()),
		"llama_commit":     LlamaCommit,
		"ollama_module":    ollamaModuleVersion(),
		"model_desc":       b.meta.desc,
		"model_size_bytes": strconv.FormatInt(b.meta.size, 10),
		"model_n_params":   strconv.FormatInt(b.meta.nParams, 10),
	}
}

// Info implements transport.Backend.
func (b *Backend) Info() transport.ModelInfo { return b.info }

// NewSession opens a session with its own llama_context (empty KV cache of
// Info().ContextLength positions).
func (b *Backend) NewSession(ctx context.Context) (transport.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, transport.ErrClosed
	}
	nc, err := b.model.newContext(b.cfg.ctxParams(b.limit, 1))
	if err != nil {
		return nil, fmt.Errorf("llamacpp: new session: %w", err)
	}
	if got, _, _, _, _, _ := nc.settings(); got < b.limit {
		nc.free()
		return nil, fmt.Errorf("llamacpp: new session: llama.cpp gave %d context positions, %d requested", got, b.limit)
	}
	s := newSession(b, nc)
	b.sessions[s] = struct{}{}
	return s, nil
}

// forget removes a closed session from the open set.
func (b *Backend) forget(s *Session) {
	b.mu.Lock()
	delete(b.sessions, s)
	b.mu.Unlock()
}

var _ transport.Quiescer = (*Backend)(nil)

// Quiesce implements transport.Quiescer: it parks the thread pool of every
// open session, whose workers would otherwise poll for the next graph for a
// while after each call (the tuned profile's persistent pool) and take CPU
// from whatever runs next. The next call resumes the pool.
func (b *Backend) Quiesce() {
	b.mu.Lock()
	open := make([]*Session, 0, len(b.sessions))
	for s := range b.sessions {
		open = append(open, s)
	}
	b.mu.Unlock()
	for _, s := range open {
		s.quiesce()
	}
}

// Close frees the model. Sessions still open are closed first (each waits
// for its in-flight call), and running DecodeBatch calls are waited for.
// Close is idempotent.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	open := make([]*Session, 0, len(b.sessions))
	for s := range b.sessions {
		open = append(open, s)
	}
	b.mu.Unlock()
	for _, s := range open {
		_ = s.Close()
	}
	b.inflight.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.model.free()
	return nil
}
