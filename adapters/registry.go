// Package adapters is the registry of backends: a name, a constructor and
// the capabilities the harness may rely on. Every in-repo backend registers
// itself from an init function; vendors do the same from their own package
// and run the conformance kit (package adapters/conformance) against it.
package adapters

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/fakbench/fakbench/transport"
)

// Options are the settings every backend accepts. Backend-specific knobs go
// in Extra (recorded in the report via Backend.Settings).
type Options struct {
	// ModelPath is a GGUF file.
	ModelPath string
	// Threads is the number of CPU threads (0 = the backend's default, which
	// should be the number of physical cores).
	Threads int
	// ContextLength is the number of positions per session (0 = the
	// backend's default: min(model context, 4096)).
	ContextLength int
	// Profile selects a named settings profile, e.g. "tuned" (default) or
	// "untuned" for llama.cpp.
	Profile string
	// Extra holds backend-specific settings as strings.
	Extra map[string]string
}

// Caps says what a backend can do beyond the base contract.
type Caps struct {
	// Logits: sessions implement transport.LogitsReader.
	Logits bool
	// Batch: the backend implements transport.BatchDecoder.
	Batch bool
	// Native: the backend needs a native library that may be missing.
	Native bool
}

// OpenFunc loads a model on the backend. It returns a
// *transport.UnavailableError when the engine cannot run here and a
// *transport.BadModelError when the file is unusable.
type OpenFunc func(ctx context.Context, opts Options) (transport.Backend, error)

// Entry is one registered backend.
type Entry struct {
	Name        string
	Description string
	Open        OpenFunc
	Caps        Caps
	// Available reports, without loading a model, whether the engine can run
	// here; nil means always available. It returns the reason when not.
	Available func() error
	// Exact are the Options.Extra settings that make the backend compute as
	// exactly as it can (no reduced precision chosen by ISA, no quantized
	// activations), for parity and logit comparisons; nil when its default
	// settings already do. Benchmark rows never use them.
	Exact map[string]string
}

var (
	mu       sync.RWMutex
	registry = map[string]Entry{}
)

// Register adds a backend. It panics on an empty or duplicate name, which
// is a programming error at init time.
func Register(e Entry) {
	mu.Lock()
	defer mu.Unlock()
	if e.Name == "" || e.Open == nil {
		panic("adapters: Register needs a name and an Open function")
	}
	if _, dup := registry[e.Name]; dup {
		panic("adapters: duplicate backend " + e.Name)
	}
	registry[e.Name] = e
}

// Lookup returns the entry for name.
func Lookup(name string) (Entry, error) {
	mu.RLock()
	defer mu.RUnlock()
	e, ok := registry[name]
	if !ok {
		return Entry{}, fmt.Errorf("unknown backend %q (known: %s)", name, strings.Join(namesLocked(), ", "))
	}
	return e, nil
}

// Names lists the registered backends in sorted order.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Open looks name up and opens the model on it.
func Open(ctx context.Context, name string, opts Options) (transport.Backend, error) {
	e, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if e.Available != nil {
		if err := e.Available(); err != nil {
			return nil, err
		}
	}
	return e.Open(ctx, opts)
}
