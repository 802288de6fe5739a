// Package openvino is the OpenVINO backend: the runtime's C API loaded at
// run time (no link-time dependency), a GGUF -> OpenVINO IR writer for
// Llama-architecture models, and a transport.Session over the compiled
// model with the KV cache kept outside the model as explicit inputs and
// outputs, so a common prefix is reused by trimming it in Go.
package openvino

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/transport"
)

// Name is the registry name of this backend.
const Name = "openvino"

// DefaultBatch is the number of tokens computed per inference call during a
// prefill (it bounds the size of the attention scores).
const DefaultBatch = 512

func init() {
	adapters.Register(adapters.Entry{
		Name:        Name,
		Description: "OpenVINO runtime (CPU plugin) through its C API, loaded at run time; model converted from GGUF to IR",
		Open:        func(ctx context.Context, o adapters.Options) (transport.Backend, error) { return Open(ctx, o) },
		Display:     "OpenVINO",
		Role:        adapters.RoleReference,
		Caps:        adapters.Caps{Logits: true, Native: true},
		// The CPU plugin compiles kernels per input shape and may run bf16
		// or int8 on AMX, so a warm call's shapes could round differently
		// from the cold ones; measured max |diff| 0 all the same (smol135m-untied
		// q8_0, 1024-token prefix, edit 512 back, AMX Xeon), against 0.09 to
		// 0.13 between the runs that must differ.
		LogitTolerance: 1e-3,
		Available:      Available,
		Exact:          ExactExtra(),
	})
}

// Backend is a GGUF model converted to IR and compiled for the CPU.
type Backend struct {
	lib      *capi
	core     *ovCore
	compiled *ovCompiled
	spec     llamaSpec
	info     transport.ModelInfo
	settings map[string]string
	ctxLen   int
	batch    int

	// IRPath is the .xml file the model was compiled from.
	IRPath string
	// IRCached says the IR was found in the cache, matching its sidecar,
	// rather than written.
	IRCached bool
	// IRCacheNote says what the IR cache did and, when it wrote the IR
	// again, why (Settings()["ir_cache"]).
	IRCacheNote string
	// ConvertTime is how long writing the IR took (zero when cached).
	ConvertTime time.Duration
	// CompileTime is how long reading and compiling the IR took.
	CompileTime time.Duration

	mu       sync.Mutex
	sessions int
	closed   bool
}

var _ transport.Backend = (*Backend)(nil)

// Open loads the runtime, converts the GGUF at o.ModelPath to IR (or reuses
// the cached IR when it matches its sidecar; ircache.go) and compiles it for
// the CPU. Extra settings (options.go): "ir_cache_dir" (where IRs are kept;
// default openvino-ir under the project's cache folder, models.CacheDir),
// "batch" (prefill tokens per inference call) and the precision pins
// "inference_precision", "dynamic_quantization_group_size",
// "kv_cache_precision" and "execution_mode" (unset: the plugin's per-ISA
// defaults; ExactExtra pins them all for exact f32 computation).
func Open(ctx context.Context, o adapters.Options) (*Backend, error) {
	if o.Threads < 0 || o.ContextLength < 0 {
		return nil, fmt.Errorf("openvino: negative threads (%d) or context length (%d)", o.Threads, o.ContextLength)
	}
	cfg, err := resolveConfig(o)
	if err != nil {
		return nil, err
	}
	lib, err := loadRuntime(defaultSearchEnv())
	if err != nil {
		return nil, err
	}
	if o.ModelPath == "" {
		return nil, &transport.BadModelError{File: "(none)", Reason: "no model path given"}
	}
	f, err := gguf.Open(o.ModelPath)
	if err != nil {
		return nil, badGGUF(err)
	}
	defer f.Close()
	spec, err := readSpec(f)
	if err != nil {
		return nil, err
	}
	ctxLen := o.ContextLength
	if ctxLen == 0 {
		ctxLen = min(spec.CtxTrain, 4096)
	}
	batch := cfg.batch
	threads := host.Threads(o.Threads)

	b := &Backend{lib: lib, spec: spec, ctxLen: ctxLen, batch: batch}
	digest, err := fileDigest(o.ModelPath)
	if err != nil {
		return nil, &transport.BadModelError{File: o.ModelPath, Reason: "cannot read for its digest", Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ir, err := ensureIR(f, spec, ctxLen, digest, irCacheRoot(cfg.irCacheDir))
	if err != nil {
		return nil, err
	}

	// Only the hint and the thread count are always set; the precisions
	// stay the plugin's per-ISA choices unless o.Extra pins them.
	props := []property{
		{lib.key("ov_property_key_hint_performance_mode", "PERFORMANCE_HINT"), "LATENCY"},
		{lib.key("ov_property_key_inference_num_threads", "INFERENCE_NUM_THREADS"), strconv.Itoa(threads)},
	}
	props = append(props, cfg.pins...)
	t0 := time.Now()
	core, err := lib.sharedCore()
	if err != nil {
		return nil, err
	}
	model, err := core.readModel(ir.XML, ir.Bin)
	if err != nil && ir.Cached {
		// The files match their sidecar, yet the runtime refuses them
		// (written by a writer that had a bug under the same version, or
		// a runtime that reads them differently): write them again once.
		why := strings.Join(strings.Fields(err.Error()), " ") // the runtime's message spans lines
		ir, err = writeIR(f, spec, ctxLen, ir.irEntry, "regenerated: the runtime rejected the cached IR: "+why)
		if err != nil {
			return nil, fmt.Errorf("openvino: the runtime rejected the cached IR %s (%s), and writing it again failed: %w", ir.XML, why, err)
		}
		model, err = core.readModel(ir.XML, ir.Bin)
	}
	if err != nil {
		return nil, &transport.BadModelError{File: ir.XML,
			Reason: fmt.Sprintf("the runtime rejected the IR just written from the GGUF (weights %s)", ir.Bin), Err: err}
	}
	b.IRPath, b.IRCached, b.IRCacheNote, b.ConvertTime = ir.XML, ir.Cached, ir.Note, ir.Convert
	compiled, err := core.compile(model, "CPU", props)
	model.free()
	if err != nil {
		return nil, err
	}
	b.core, b.compiled, b.CompileTime = core, compiled, time.Since(t0)

	name := spec.Name
	if name == "" {
		name = filepath.Base(o.ModelPath)
	}
	b.info = transport.ModelInfo{
		Path: o.ModelPath, Name: name, Architecture: "llama", ContextLength: ctxLen,
		VocabSize: spec.Vocab, Parameters: spec.Params, WeightBytes: spec.WeightBytes, WeightType: spec.WeightType,
	}
	weights := "f32/f16 as stored; q8_0 kept compressed (i8 constant + f16 scales, Convert/Multiply decompression)"
	b.settings = map[string]string{
		"device":              "CPU",
		"threads":             strconv.Itoa(threads),
		"context_length":      strconv.Itoa(ctxLen),
		"prefill_batch":       strconv.Itoa(batch),
		"kv_cache":            "explicit past/present KV inputs and outputs (f32, [positions, kv_dim] per layer), trimmed in Go",
		"type_k":              "f32", // the KV buffers this package binds (engine.kv), as llama.cpp and the Go kernel name theirs
		"type_v":              "f32",
		"weights":             weights,
		"ir_writer_version":   strconv.Itoa(WriterVersion),
		"ir_path":             ir.XML,
		"ir_cache_key":        ir.Key,
		"ir_cache":            ir.Note,
		"ir_cached":           strconv.FormatBool(ir.Cached),
		"ir_convert_ms":       fmt.Sprintf("%.1f", float64(ir.Convert.Microseconds())/1000),
		"compile_ms":          fmt.Sprintf("%.1f", float64(b.CompileTime.Microseconds())/1000),
		"runtime_library":     lib.path,
		"compile_api":         map[bool]string{true: "ov_core_compile_model_props", false: "ov_core_compile_model"}[lib.propsOK],
		"model_digest_sha256": digest,
	}
	for _, p := range props {
		b.settings["property."+p.Key] = p.Value
	}
	b.settings["precision"] = "plugin defaults (chosen per ISA; see effective.*)"
	if len(cfg.pins) > 0 {
		var pins []string
		for _, p := range cfg.pins {
			pins = append(pins, p.Key+"="+p.Value)
		}
		b.settings["precision"] = "pinned: " + strings.Join(pins, ", ")
	}
	// What the plugin made of them, and the defaults that matter for
	// reproducing a row: the precisions it chose for this CPU (inference
	// precision, dynamic quantization of activations for the compressed
	// weights, KV cache), the execution mode and streams.
	for _, k := range effectiveProps {
		if v, err := compiled.property(k); err == nil {
			b.settings["effective."+k] = v
		}
	}
	// What the CPU device can compute in here, and so which of the node's
	// features its kernels can use (isa.go explains the rule).
	for _, k := range deviceProps {
		if v, err := core.deviceProperty("CPU", k); err == nil {
			b.settings["device."+k] = v
		}
	}
	b.settings["isa"] = pluginISA(nodeCPUFlags(), rowCapabilities(b.settings["device.OPTIMIZATION_CAPABILITIES"], b.settings))
	return b, nil
}

// effectiveProps are read back from the compiled model into Settings as
// effective.<key>.
var effectiveProps = []string{"PERFORMANCE_HINT", "EXECUTION_MODE_HINT", "INFERENCE_NUM_THREADS",
	"INFERENCE_PRECISION_HINT", "NUM_STREAMS", "DYNAMIC_QUANTIZATION_GROUP_SIZE",
	"KV_CACHE_PRECISION", "KEY_CACHE_PRECISION", "VALUE_CACHE_PRECISION",
	"KEY_CACHE_GROUP_SIZE", "VALUE_CACHE_GROUP_SIZE", "CPU_DENORMALS_OPTIMIZATION",
	"ENABLE_CPU_PINNING", "ENABLE_HYPER_THREADING", "SCHEDULING_CORE_TYPE", "EXECUTION_DEVICES"}

// deviceProps are read from the CPU device into Settings as device.<key>.
var deviceProps = []string{"OPTIMIZATION_CAPABILITIES", "FULL_DEVICE_NAME"}

// key returns the property key string the library exports under sym, or
// def when the symbol is absent.
func (l *capi) key(sym, def string) string {
	if v, ok := l.keys[sym]; ok && v != "" {
		return v
	}
	return def
}

// fileDigest is the hex sha256 of the file at path.
func fileDigest(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Name returns "openvino".
func (b *Backend) Name() string { return Name }

// Version is the runtime's build number from ov_get_openvino_version.
func (b *Backend) Version() string { return "openvino " + b.lib.version }

// Settings lists every compile property set (property.*), what the compiled
// model reports for them and for the per-ISA defaults (effective.*), the CPU
// device's capabilities (device.*), the x86 features its kernels can use
// here (isa), the KV design and the weight handling.
func (b *Backend) Settings() map[string]string {
	out := make(map[string]string, len(b.settings))
	for k, v := range b.settings {
		out[k] = v
	}
	return out
}

// Info describes the loaded model.
func (b *Backend) Info() transport.ModelInfo { return b.info }

// NewSession opens a session with an empty KV cache.
func (b *Backend) NewSession(ctx context.Context) (transport.Session, error) {
	s, err := b.newSession()
	if err != nil {
		return nil, err // a nil interface, not a nil *Session
	}
	return s, nil
}

// Close frees the compiled model (the core is shared by the process). Sessions must be closed
// first; Close fails while any is open. It is idempotent.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	if b.sessions > 0 {
		return fmt.Errorf("openvino: Close: %d sessions still open", b.sessions)
	}
	b.closed = true
	b.compiled.free()
	return nil
}
