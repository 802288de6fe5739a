package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/transport"
)

// RealPrefix starts the spec of a real model fetched by setup.
const RealPrefix = "real:"

// RealModels maps real-model names to the file setup places under
// .cache/models (scripts/setup.d/40-models.sh).
var RealModels = map[string]string{
	"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
}

// RealPath finds the file of a real model: in $FAK_MODELS_DIR, else in
// .cache/models of the working directory or one of its parents, else next
// to the executable's parent directory (bin/..). It fails, saying to run
// `make setup`, when the file is absent.
func RealPath(name string) (string, error) {
	file, ok := RealModels[name]
	if !ok {
		known := make([]string, 0, len(RealModels))
		for k := range RealModels {
			known = append(known, RealPrefix+k)
		}
		return "", fmt.Errorf("unknown real model %q (known: %s)", name, strings.Join(known, ", "))
	}
	var tried []string
	try := func(dir string) (string, bool) {
		p := filepath.Join(dir, file)
		tried = append(tried, p)
		st, err := os.Stat(p)
		return p, err == nil && st.Mode().IsRegular()
	}
	if d := env.ModelsDir.Value(); d != "" {
		if p, ok := try(d); ok {
			return p, nil
		}
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if p, ok := try(filepath.Join(dir, ".cache", "models")); ok {
				return p, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if p, ok := try(filepath.Join(filepath.Dir(filepath.Dir(exe)), ".cache", "models")); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("real model %s (%s) not found: run `make setup` to fetch it (looked in %s)",
		name, file, strings.Join(tried, ", "))
}

// Path turns a model spec into a file path: a .gguf path (which must
// exist), "synthetic:PRESET[:TYPE]" (generated and cached by Ensure; with
// a TYPE of QuantSpecTypes, such as q4_k_m, quantized by llama.cpp from
// the f16 file and cached by EnsureQuant), or "real:NAME" (the model
// fetched by `make setup`). Resolve does this and checks the file.
func Path(spec string) (string, error) {
	return pathCtx(context.Background(), spec)
}

// pathCtx is Path; ctx is checked before a quantized spec's file is made.
func pathCtx(ctx context.Context, spec string) (string, error) {
	switch {
	case spec == "":
		return "", errors.New("empty model spec: want a .gguf path, synthetic:PRESET[:TYPE] or real:smollm2")
	case strings.HasPrefix(spec, SpecPrefix):
		if q, ok, err := ParseQuantSpec(spec); ok {
			if err != nil {
				return "", err
			}
			return EnsureQuant(ctx, q)
		}
		s, err := ParseSpec(spec)
		if err != nil {
			return "", err
		}
		return Ensure(s)
	case strings.HasPrefix(spec, RealPrefix):
		return RealPath(strings.TrimPrefix(spec, RealPrefix))
	}
	st, err := os.Stat(spec)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !strings.HasSuffix(spec, ".gguf") {
			return "", fmt.Errorf("model %q: no such file, and not a spec (want a .gguf path, synthetic:PRESET[:TYPE] or real:smollm2)", spec)
		}
		return "", &transport.BadModelError{File: spec, Reason: "cannot use model file", Err: err}
	}
	if !st.Mode().IsRegular() {
		return "", &transport.BadModelError{File: spec, Reason: "not a regular file"}
	}
	return spec, nil
}

// SpecError says a model spec names no usable file (Path failed); Err is
// why. Resolve returns it so that a caller can name where the spec came
// from (the CLI names its --model flag).
type SpecError struct {
	Spec string
	Err  error
}

func (e *SpecError) Error() string { return fmt.Sprintf("model %s: %v", e.Spec, e.Err) }

func (e *SpecError) Unwrap() error { return e.Err }

// Resolved is a model spec turned into a checked file: what the backends
// open and what a report names.
type Resolved struct {
	// Spec is the spec as given (.gguf path, synthetic:..., real:...).
	Spec string
	// Path is the GGUF file.
	Path string
	// Name is general.name, or the file's base name.
	Name string
	// Digest is "sha256:<hex>" of the file.
	Digest string
	// Size is the file size in bytes.
	Size int64
	// DecodeBytes is the weight bytes one decoded token reads
	// (gguf.File.DecodeReadBytes): the decode roofline's denominator, the
	// same for every backend of a run.
	DecodeBytes int64
}

// Resolve turns spec into a file (Path: generating and caching a synthetic
// model the first time, with a line on progress, which may be nil), checks that the file
// parses as GGUF, and hashes it. A spec that names no file is a
// *SpecError; a file that cannot be used is a *transport.BadModelError
// naming it and the fault.
func Resolve(ctx context.Context, spec string, progress io.Writer) (Resolved, error) {
	if err := ctx.Err(); err != nil {
		return Resolved{}, err
	}
	if progress == nil {
		progress = io.Discard
	}
	if q, ok, err := ParseQuantSpec(spec); ok && err == nil {
		if _, err := os.Stat(QuantCachePath(q)); err != nil && registeredQuantizer() != nil {
			fmt.Fprintf(progress, "fakbench: quantizing %s from %s with llama.cpp into the cache %s (first use)\n", q, q.Source(), CacheDir())
		}
	} else if s, err := ParseSpec(spec); err == nil {
		if _, err := os.Stat(CachePath(s)); err != nil {
			fmt.Fprintf(progress, "fakbench: generating %s into the cache %s (first use)\n", s, CacheDir())
		}
	}
	path, err := pathCtx(ctx, spec)
	if err != nil {
		return Resolved{}, &SpecError{Spec: spec, Err: err}
	}
	f, err := gguf.Open(path)
	if ge, ok := errors.AsType[*gguf.Error](err); ok {
		return Resolved{}, &transport.BadModelError{File: ge.File, Reason: ge.Reason, Err: ge.Err}
	}
	if err != nil {
		return Resolved{}, &transport.BadModelError{File: path, Reason: "cannot read", Err: err}
	}
	name, _ := f.String("general.name")
	decodeBytes := f.DecodeReadBytes()
	_ = f.Close()
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), ".gguf")
	}
	st, err := os.Stat(path)
	if err != nil {
		return Resolved{}, &transport.BadModelError{File: path, Reason: "cannot stat", Err: err}
	}
	digest, err := FileDigest(path)
	if err != nil {
		return Resolved{}, &transport.BadModelError{File: path, Reason: "cannot hash", Err: err}
	}
	return Resolved{Spec: spec, Path: path, Name: name, Digest: digest, Size: st.Size(), DecodeBytes: decodeBytes}, nil
}
