package models

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fakbench/fakbench/internal/env"
)

// CacheDir returns where generated models are cached: $FAK_CACHE_DIR, else
// $XDG_CACHE_HOME/fakbench, else ~/.cache/fakbench (or the OS temp dir when
// there is no home directory).
func CacheDir() string {
	if d := env.CacheDir.Value(); d != "" {
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
// The name carries the preset's seed name, so an old preset name and the
// current one name the same file, which a renamed preset keeps.
func CachePath(spec Spec) string {
	return filepath.Join(CacheDir(), fmt.Sprintf("synthetic-%s-%s-g%d.gguf", cacheStem(spec.Preset), spec.Type, GeneratorVersion))
}

// cacheStem is a preset's part of its cache file names: its seed name (the
// name itself for an unknown preset, whose file is never made).
func cacheStem(preset string) string {
	if p, err := LookupPreset(preset); err == nil {
		return p.seedName()
	}
	return preset
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
