package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fakbench/fakbench/transport"
)

// CacheDir returns where generated models are cached: $FAK_CACHE_DIR, else
// $XDG_CACHE_HOME/fakbench, else ~/.cache/fakbench (or the OS temp dir when
// there is no home directory).
func CacheDir() string {
	if d := os.Getenv("FAK_CACHE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "fakbench")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".cache", "fakbench")
	}
	return filepath.Join(os.TempDir(), "fakbench-cache")
}

// CachePath returns the cache file name of spec (without checking it).
func CachePath(spec Spec) string {
	return filepath.Join(CacheDir(), fmt.Sprintf("synthetic-%s-%s-g%d.gguf", spec.Preset, spec.Type, GeneratorVersion))
}

// sidecar is the file beside a cached model recording its size and digest.
func sidecar(path string) string { return path + ".sum" }

// Ensure returns the path of the cached model for spec, generating it the
// first time. A cached file is reused only when its size and sha256 match
// the sidecar written at generation; otherwise it is generated again.
func Ensure(spec Spec) (string, error) {
	p, err := LookupPreset(spec.Preset)
	if err != nil {
		return "", err
	}
	path := CachePath(spec)
	if ok, _ := cacheValid(path); ok {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("synthetic model cache: %w", err)
	}
	if err := GenerateFile(path, p, spec.Type); err != nil {
		return "", fmt.Errorf("generating %s into %s: %w", spec, path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("synthetic model cache: %w", err)
	}
	digest, err := FileDigest(path)
	if err != nil {
		return "", err
	}
	if err := writeAtomic(sidecar(path), []byte(fmt.Sprintf("%s %d\n", digest, st.Size()))); err != nil {
		return "", fmt.Errorf("synthetic model cache: %w", err)
	}
	return path, nil
}

// cacheValid reports whether path exists with the size and digest its
// sidecar records.
func cacheValid(path string) (bool, error) {
	b, err := os.ReadFile(sidecar(path))
	if err != nil {
		return false, err
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return false, fmt.Errorf("sidecar %s: malformed", sidecar(path))
	}
	size, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return false, fmt.Errorf("sidecar %s: %w", sidecar(path), err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() != size {
		return false, err
	}
	digest, err := FileDigest(path)
	if err != nil {
		return false, err
	}
	return digest == fields[0], nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// FileDigest returns "sha256:<hex>" of the file's contents.
func FileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("digest %s: %w", path, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// RealPrefix starts the spec of a real model fetched by setup.
const RealPrefix = "real:"

// RealModels maps real-model names to the file setup places under
// .cache/models (scripts/setup.d/40-models.sh).
var RealModels = map[string]string{
	"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
}

// RealModelPath finds the file of a real model: in $FAK_MODELS_DIR, else in
// .cache/models of the working directory or one of its parents, else next
// to the executable's parent directory (bin/..). It fails, saying to run
// `make setup`, when the file is absent.
func RealModelPath(name string) (string, error) {
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
	if d := os.Getenv("FAK_MODELS_DIR"); d != "" {
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

// ResolveModel turns a model spec into a file path: a .gguf path (which
// must exist), "synthetic:PRESET[:TYPE]" (generated and cached by Ensure),
// or "real:NAME" (the model fetched by `make setup`).
func ResolveModel(spec string) (string, error) {
	switch {
	case spec == "":
		return "", errors.New("empty model spec: want a .gguf path, synthetic:PRESET[:TYPE] or real:smollm2")
	case strings.HasPrefix(spec, SpecPrefix):
		s, err := ParseSpec(spec)
		if err != nil {
			return "", err
		}
		return Ensure(s)
	case strings.HasPrefix(spec, RealPrefix):
		return RealModelPath(strings.TrimPrefix(spec, RealPrefix))
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
