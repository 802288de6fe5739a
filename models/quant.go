package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/fakbench/fakbench/gokernel/kernels"
)

// Quantizer writes the GGUF model in, quantized to ftype (one of
// QuantizeTypes), to out; threads 0 is one per physical core. Package
// llamacpp registers llama.cpp's quantizer (llama_model_quantize) when it
// is compiled in; models cannot import it (it is a lower layer).
type Quantizer func(ctx context.Context, in, out, ftype string, threads int) error

var (
	quantizerMu sync.Mutex
	quantizer   Quantizer
)

// RegisterQuantizer makes q the quantizer of QuantizeFile and of quantized
// synthetic specs (synthetic:PRESET:q4_k_m). Package llamacpp calls it from
// init in a cgo build; a nil q removes it.
func RegisterQuantizer(q Quantizer) {
	quantizerMu.Lock()
	defer quantizerMu.Unlock()
	quantizer = q
}

func registeredQuantizer() Quantizer {
	quantizerMu.Lock()
	defer quantizerMu.Unlock()
	return quantizer
}

// ErrNoQuantizer says no quantizer is registered: the binary was built
// without llama.cpp (CGO_ENABLED=0), or package llamacpp is not linked in.
var ErrNoQuantizer = errors.New("quantizing needs llama.cpp's quantizer, which this binary lacks (built without cgo, or without package llamacpp)")

// quantizeTypes are llama.cpp's model quantization types by the names
// llama-quantize uses (lower case), in llama.h's order.
var quantizeTypes = []string{
	"f32", "f16", "q4_0", "q4_1", "q8_0", "q5_0", "q5_1",
	"q2_k", "q3_k_s", "q3_k_m", "q3_k_l", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k", "bf16",
}

// QuantizeTypes are the types QuantizeFile accepts.
func QuantizeTypes() []string { return slices.Clone(quantizeTypes) }

// QuantSpecTypes are the weight types of a quantized synthetic spec
// (synthetic:PRESET:TYPE made by llama.cpp's quantizer from the preset's
// f16 file): every quantize type except f32, f16 and q8_0, which the
// generator writes itself.
func QuantSpecTypes() []string {
	var out []string
	for _, t := range quantizeTypes {
		if !slices.Contains(generatedTypes, t) {
			out = append(out, t)
		}
	}
	return out
}

// generatedTypes are the weight types of synthetic specs the generator
// writes itself (ParseType).
var generatedTypes = []string{"f32", "f16", "q8_0"}

func isQuantSpecType(s string) bool { return slices.Contains(QuantSpecTypes(), s) }

// Quantized is a file QuantizeFile wrote.
type Quantized struct {
	Path   string
	Type   string
	Size   int64
	Digest string
}

// QuantizeFile writes the GGUF model in, quantized to ftype, to out with
// the registered quantizer (llama.cpp's) and returns the file's size and
// digest. threads 0 is one per physical core; the output does not depend
// on it.
func QuantizeFile(ctx context.Context, in, out, ftype string, threads int) (Quantized, error) {
	if !slices.Contains(quantizeTypes, ftype) {
		return Quantized{}, fmt.Errorf("unknown quantization type %q (known: %s)", ftype, strings.Join(quantizeTypes, ", "))
	}
	if threads < 0 {
		return Quantized{}, fmt.Errorf("threads %d is negative (0 is one per physical core)", threads)
	}
	q := registeredQuantizer()
	if q == nil {
		return Quantized{}, ErrNoQuantizer
	}
	if err := q(ctx, in, out, ftype, threads); err != nil {
		return Quantized{}, err
	}
	st, err := os.Stat(out)
	if err != nil {
		return Quantized{}, fmt.Errorf("quantized file: %w", err)
	}
	digest, err := FileDigest(out)
	if err != nil {
		return Quantized{}, err
	}
	return Quantized{Path: out, Type: ftype, Size: st.Size(), Digest: digest}, nil
}

// QuantSpec names a synthetic model quantized by llama.cpp from the
// preset's f16 file: synthetic:PRESET:FTYPE with FTYPE one of
// QuantSpecTypes.
type QuantSpec struct {
	Preset string
	FType  string
}

// String is the spec: "synthetic:smol135m-untied:q4_k_m".
func (s QuantSpec) String() string { return SpecPrefix + s.Preset + ":" + s.FType }

// Source is the spec of the f16 file it is quantized from.
func (s QuantSpec) Source() Spec { return Spec{Preset: s.Preset, Type: kernels.TypeF16} }

// ParseQuantSpec parses "synthetic:PRESET:FTYPE" where FTYPE is not a
// type the generator writes (f32, f16, q8_0). ok is false when s is not of
// that form (it may still be a plain synthetic spec, which ParseSpec
// reads); when ok, err says what is wrong: an unknown preset, or an FTYPE
// that is none of QuantSpecTypes. As in ParseSpec, an old preset name
// gives the preset's current name.
func ParseQuantSpec(s string) (spec QuantSpec, ok bool, err error) {
	rest, found := strings.CutPrefix(s, SpecPrefix)
	if !found {
		return QuantSpec{}, false, nil
	}
	preset, ftype, found := strings.Cut(rest, ":")
	if !found || preset == "" || strings.Contains(ftype, ":") || slices.Contains(generatedTypes, ftype) {
		return QuantSpec{}, false, nil
	}
	p, err := LookupPreset(preset)
	if err != nil {
		return QuantSpec{}, true, fmt.Errorf("model spec %q: %w", s, err)
	}
	if !isQuantSpecType(ftype) {
		return QuantSpec{}, true, fmt.Errorf("model spec %q: unknown weight type %q (want %s, or a type llama.cpp quantizes to: %s)",
			s, ftype, strings.Join(generatedTypes, ", "), strings.Join(QuantSpecTypes(), ", "))
	}
	return QuantSpec{Preset: p.Name, FType: ftype}, true, nil
}

// QuantCachePath is the cache file of a quantized spec (not checked); like
// CachePath, it carries the preset's seed name.
func QuantCachePath(s QuantSpec) string {
	return filepath.Join(CacheDir(), fmt.Sprintf("synthetic-%s-%s-g%d.gguf", cacheStem(s.Preset), s.FType, GeneratorVersion))
}

// quantThreads is the thread count quantized specs are made with. The
// quantizer works row by row, so its output is the same for every thread
// count (llamacpp's tests check 1 against 4); 0 uses every core.
const quantThreads = 0

// EnsureQuant returns the cached file of s, making it the first time: the
// preset's f16 file (Ensure) quantized by the registered quantizer. Like
// Ensure, a cached file is reused only when its size and sha256 match the
// sidecar written when it was made.
func EnsureQuant(ctx context.Context, s QuantSpec) (string, error) {
	path := QuantCachePath(s)
	if ok, _ := cacheValid(path); ok {
		return path, nil
	}
	if registeredQuantizer() == nil {
		return "", fmt.Errorf("%s: %w", s, ErrNoQuantizer)
	}
	src, err := Ensure(s.Source())
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	q, err := QuantizeFile(ctx, src, path, s.FType, quantThreads)
	if err != nil {
		return "", fmt.Errorf("quantizing %s from %s into %s: %w", s, src, path, err)
	}
	if err := writeAtomic(sidecar(path), []byte(fmt.Sprintf("%s %d\n", q.Digest, q.Size))); err != nil {
		return "", fmt.Errorf("synthetic model cache: %w", err)
	}
	return path, nil
}
