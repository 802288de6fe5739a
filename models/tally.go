package models

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fakbench/fakbench/gguf"
)

// TypeTally is what the tensors of one type take in a model file.
type TypeTally struct {
	// Type is the tensor type's name (gguf's spelling, e.g. "q8_0").
	Type string
	// Tensors, Params and Bytes are the tensor count, their elements and
	// their data size.
	Tensors       int
	Params, Bytes int64
}

// Tally counts a model file's tensors by type, sorted by type name, and
// returns the total parameter count.
func Tally(f *gguf.File) (params int64, byType []TypeTally) {
	idx := map[string]int{}
	for _, t := range f.Tensors {
		name := t.Type.String()
		i, ok := idx[name]
		if !ok {
			i = len(byType)
			idx[name] = i
			byType = append(byType, TypeTally{Type: name})
		}
		byType[i].Tensors++
		byType[i].Bytes += t.Size
		byType[i].Params += t.Elements()
		params += t.Elements()
	}
	sort.Slice(byType, func(a, b int) bool { return byType[a].Type < byType[b].Type })
	return params, byType
}

// Describe prints what a person needs to know about the model file f
// resolved as m: where it is, its digest, for a synthetic spec the preset's
// namesake and how it differs (and, for an old preset name, that it is an
// alias), its hyper-parameters, its tokenizer and what its tensors take by
// type ("fakbench model info").
func Describe(w io.Writer, m Resolved, f *gguf.File) {
	arch, _ := f.String("general.architecture")
	fmt.Fprintf(w, "file:          %s\n", m.Path)
	if m.Spec != m.Path {
		fmt.Fprintf(w, "spec:          %s\n", m.Spec)
	}
	if name, ok := specPreset(m.Spec); ok {
		if p, err := LookupPreset(name); err == nil {
			fmt.Fprintf(w, "preset:        %s\n", p.About())
		}
		if note := AliasNote(name); note != "" {
			fmt.Fprintf(w, "alias:         %s", note)
		}
	}
	fmt.Fprintf(w, "size:          %d bytes (%.1f MiB)\n", m.Size, float64(m.Size)/(1<<20))
	fmt.Fprintf(w, "digest:        %s\n", m.Digest)
	fmt.Fprintf(w, "gguf:          version %d, alignment %d, %d metadata keys, %d tensors\n", f.Version, f.Alignment, len(f.KVs), len(f.Tensors))
	fmt.Fprintf(w, "name:          %s\n", m.Name)
	fmt.Fprintf(w, "architecture:  %s\n", arch)

	fmt.Fprintln(w, "hyper-parameters:")
	for _, kv := range f.KVs {
		if arch == "" || !strings.HasPrefix(kv.Key, arch+".") {
			continue // no architecture: no hyper-parameter keys to pick
		}
		if _, isArr := kv.ArrayType(); isArr {
			fmt.Fprintf(w, "  %-40s [array]\n", kv.Key)
			continue
		}
		fmt.Fprintf(w, "  %-40s %v\n", kv.Key, kv.Value)
	}
	if toks, err := f.Strings("tokenizer.ggml.tokens"); err == nil {
		tm, _ := f.String("tokenizer.ggml.model")
		fmt.Fprintf(w, "tokenizer:     %s, %d tokens\n", tm, len(toks))
	} else {
		fmt.Fprintln(w, "tokenizer:     none")
	}

	params, byType := Tally(f)
	fmt.Fprintf(w, "tensors:       %d (%d parameters, %.1fM)\n", len(f.Tensors), params, float64(params)/1e6)
	fmt.Fprintln(w, "types:")
	for _, t := range byType {
		fmt.Fprintf(w, "  %-6s %4d tensors  %12d parameters  %10.1f MiB\n", t.Type, t.Tensors, t.Params, float64(t.Bytes)/(1<<20))
	}
}

// WriteSynthetic writes the synthetic model of spec to path (its folder
// made if missing) and returns the file's size and digest ("fakbench model
// gen").
func WriteSynthetic(path string, spec Spec) (size int64, digest string, err error) {
	p, err := LookupPreset(spec.Preset)
	if err != nil {
		return 0, "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, "", err
	}
	if err := GenerateFile(path, p, spec.Type); err != nil {
		return 0, "", fmt.Errorf("writing %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, "", err
	}
	digest, err = FileDigest(path)
	return st.Size(), digest, err
}
