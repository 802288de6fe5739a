package openvino

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/models"
)

// The IR cache. Each converted model lives in a folder of its own,
//
//	<root>/<key>/model.bin, model.xml, model.sum.json
//
// where <root> is <models.CacheDir()>/openvino-ir (the project's cache
// folder, FAK_CACHE_DIR when set) or Extra["ir_cache_dir"], and <key> is
// irKey: the GGUF's digest, the writer version, the context length and a
// hash of the spec read from the GGUF. The files are written in that order,
// each through a temporary file and a rename, and the sidecar
// model.sum.json, written last, records the size and sha256 of the other
// two. A folder is used only when both files match the sidecar; anything
// else (no sidecar, a truncated .bin, an edited .xml) is written again,
// and the backend's Settings()["ir_cache"] says why.
const (
	irCacheSubdir  = "openvino-ir"
	irBinName      = "model.bin"
	irXMLName      = "model.xml"
	irSidecarName  = "model.sum.json"
	irSidecarFmt   = 1
	specHashLength = 8 // hex digits of the spec hash in the key
)

// irCacheRoot is the folder that holds one folder per IR key: override
// when set (Extra["ir_cache_dir"]), else openvino-ir under the project's
// cache folder, the one the synthetic models use.
func irCacheRoot(override string) string {
	if override != "" {
		return override
	}
	return filepath.Join(models.CacheDir(), irCacheSubdir)
}

// irKey names the cache folder of one IR. It changes with everything the
// IR depends on: the GGUF's content (its sha256, first 16 hex digits), the
// writer (WriterVersion), the KV form (explicit or stateful), the context
// length (the size of the rotary tables) and the spec read from the GGUF (a
// hash of every field, so a change in how the GGUF is read changes the key
// even when the writer version was not bumped).
func irKey(digest string, ctx int, spec llamaSpec) string {
	return fmt.Sprintf("%s-w%d-%s-n%d-s%s", digest[:min(16, len(digest))], WriterVersion, spec.form(), ctx, specHash(spec))
}

// specHash is the first specHashLength hex digits of the sha256 of the
// spec's Go syntax representation (every field, named).
func specHash(spec llamaSpec) string {
	spec.KV = spec.form() // an unset form is the explicit one
	h := sha256.Sum256([]byte(fmt.Sprintf("%#v", spec)))
	return hex.EncodeToString(h[:])[:specHashLength]
}

// irSidecar is the content of model.sum.json.
type irSidecar struct {
	// Format is irSidecarFmt; a sidecar of another format is not trusted.
	Format int `json:"format"`
	// Key is the folder's key (irKey) the files were written for.
	Key string `json:"key"`
	// WriterVersion is the WriterVersion that wrote the files.
	WriterVersion int `json:"writer_version"`
	// Files lists model.bin then model.xml, in the order they were written.
	Files []irFileSum `json:"files"`
}

// irFileSum is one file's name, size in bytes and hex sha256.
type irFileSum struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// irEntry is one IR in the cache: its folder and files.
type irEntry struct {
	Root, Dir, Key string
	XML, Bin       string
	Sidecar        string
}

func newIREntry(root, key string) irEntry {
	dir := filepath.Join(root, key)
	return irEntry{Root: root, Dir: dir, Key: key,
		XML:     filepath.Join(dir, irXMLName),
		Bin:     filepath.Join(dir, irBinName),
		Sidecar: filepath.Join(dir, irSidecarName)}
}

// irWriter writes the IR (writeLlamaIR); a test replaces it to write an IR
// the runtime rejects.
var irWriter = writeLlamaIR

// irResult is what ensureIR did.
type irResult struct {
	irEntry
	// Cached is true when the files were found and matched the sidecar.
	Cached bool
	// Note is Settings()["ir_cache"]: "hit: ...", "written: ..." or
	// "regenerated: <why the cached files were not used>".
	Note string
	// Convert is how long writing took (zero on a hit).
	Convert time.Duration
}

// checkIR returns "" when e's model.bin and model.xml have the sizes and
// sha256 its sidecar records for key e.Key, else what is wrong, naming the
// file and the values. present says whether any of the three files exists
// (false: nothing was ever written here).
func checkIR(e irEntry) (problem string, present bool) {
	for _, p := range []string{e.Sidecar, e.Bin, e.XML} {
		if _, err := os.Lstat(p); err == nil || !errors.Is(err, fs.ErrNotExist) {
			present = true
		}
	}
	data, err := os.ReadFile(e.Sidecar)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("no sidecar %s beside %s and %s (a write that did not finish, or an older cache)",
			irSidecarName, irBinName, irXMLName), present
	}
	if err != nil {
		return fmt.Sprintf("sidecar %s cannot be read: %v", e.Sidecar, err), present
	}
	var sc irSidecar
	if err := json.Unmarshal(data, &sc); err != nil {
		return fmt.Sprintf("sidecar %s is malformed (%d bytes): %v", irSidecarName, len(data), err), present
	}
	if sc.Format != irSidecarFmt {
		return fmt.Sprintf("sidecar %s has format %d, this build reads format %d", irSidecarName, sc.Format, irSidecarFmt), present
	}
	if sc.Key != e.Key {
		return fmt.Sprintf("sidecar %s is for key %q, the folder's key is %q", irSidecarName, sc.Key, e.Key), present
	}
	if sc.WriterVersion != WriterVersion {
		return fmt.Sprintf("sidecar %s says writer version %d, this build writes %d", irSidecarName, sc.WriterVersion, WriterVersion), present
	}
	if len(sc.Files) != 2 || sc.Files[0].Name != irBinName || sc.Files[1].Name != irXMLName {
		var names []string
		for _, f := range sc.Files {
			names = append(names, f.Name)
		}
		return fmt.Sprintf("sidecar %s lists files %q, want [%s %s]", irSidecarName, names, irBinName, irXMLName), present
	}
	for _, want := range sc.Files {
		if p := checkFileSum(filepath.Join(e.Dir, want.Name), want); p != "" {
			return p, present
		}
	}
	return "", present
}

// checkFileSum returns "" when the file at path has want's size and
// sha256, else what differs. The size is compared first, so a truncated
// file is reported without reading it.
func checkFileSum(path string, want irFileSum) string {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s is missing, the sidecar says %d bytes", want.Name, want.Size)
	case err != nil:
		return fmt.Sprintf("%s cannot be read: %v", path, err)
	case !st.Mode().IsRegular():
		return fmt.Sprintf("%s is not a regular file (%s)", path, st.Mode().Type())
	case st.Size() != want.Size:
		return fmt.Sprintf("%s is %d bytes, the sidecar says %d", want.Name, st.Size(), want.Size)
	}
	got, err := fileDigest(path)
	if err != nil {
		return fmt.Sprintf("%s cannot be read for its sha256: %v", path, err)
	}
	if got != want.SHA256 {
		return fmt.Sprintf("%s has sha256 %s, the sidecar says %s (same size, %d bytes: edited or corrupted)",
			want.Name, short(got), short(want.SHA256), want.Size)
	}
	return ""
}

// short is the first 16 characters of a hex digest, for messages.
func short(h string) string { return h[:min(16, len(h))] }

// ensureIR returns the IR of the model in the cache under root, writing it
// when it is missing or does not match its sidecar.
func ensureIR(f *gguf.File, spec llamaSpec, ctx int, digest, root string) (irResult, error) {
	e := newIREntry(root, irKey(digest, ctx, spec))
	problem, present := checkIR(e)
	if problem == "" {
		return irResult{irEntry: e, Cached: true,
			Note: fmt.Sprintf("hit: %s and %s match the sizes and sha256 in %s", irBinName, irXMLName, irSidecarName)}, nil
	}
	note := "written: no cached IR for this key"
	if present {
		note = "regenerated: " + problem
	}
	return writeIR(f, spec, ctx, e, note)
}

// writeIR writes e's files: the sidecar is removed first, then model.bin,
// model.xml and the new sidecar are written, each through a temporary file
// and a rename, so a sidecar on disk always describes complete files.
// A folder that cannot be created or written to is an error naming it.
func writeIR(f *gguf.File, spec llamaSpec, ctx int, e irEntry, note string) (irResult, error) {
	unwritable := func(err error) error {
		return fmt.Errorf("openvino: IR cache folder %s is not writable (point %s, or the backend option %s, to a writable folder): %w",
			e.Dir, env.CacheDir.Name, ExtraIRCacheDir, err)
	}
	if err := os.MkdirAll(e.Dir, 0o755); err != nil {
		return irResult{}, unwritable(err)
	}
	if err := os.Remove(e.Sidecar); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return irResult{}, unwritable(err)
	}
	t0 := time.Now()
	var xml bytesWriter
	bin, err := writeSummed(e.Bin, func(w io.Writer) error { return irWriter(f, spec, ctx, &xml, w) })
	if err != nil {
		if errors.Is(err, errCreateTemp) {
			return irResult{}, unwritable(err)
		}
		return irResult{}, fmt.Errorf("openvino: writing IR %s: %w", e.Bin, err)
	}
	xs, err := writeSummed(e.XML, func(w io.Writer) error { _, err := w.Write(xml.b); return err })
	if err != nil {
		return irResult{}, fmt.Errorf("openvino: writing IR %s: %w", e.XML, err)
	}
	sc := irSidecar{Format: irSidecarFmt, Key: e.Key, WriterVersion: WriterVersion,
		Files: []irFileSum{bin, xs}}
	data, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return irResult{}, fmt.Errorf("openvino: IR sidecar %s: %w", e.Sidecar, err)
	}
	data = append(data, '\n')
	if err := writeFileAtomic(e.Sidecar, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return irResult{}, fmt.Errorf("openvino: writing IR sidecar %s: %w", e.Sidecar, err)
	}
	return irResult{irEntry: e, Note: note, Convert: time.Since(t0)}, nil
}

// writeSummed writes path atomically (writeFileAtomic) and returns the
// name, size and sha256 of what was written.
func writeSummed(path string, fill func(io.Writer) error) (irFileSum, error) {
	var sw *sumWriter
	err := writeFileAtomic(path, func(w io.Writer) error {
		sw = &sumWriter{w: w, h: sha256.New()}
		return fill(sw)
	})
	if err != nil {
		return irFileSum{}, err
	}
	return irFileSum{Name: filepath.Base(path), Size: sw.n, SHA256: hex.EncodeToString(sw.h.Sum(nil))}, nil
}

// sumWriter counts and hashes what passes through it.
type sumWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (s *sumWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	return n, err
}

// bytesWriter collects what is written to it.
type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
