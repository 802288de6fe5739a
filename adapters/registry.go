// Package adapters is the registry of backends: a name, a constructor and
// the capabilities the harness may rely on. Every in-repo backend registers
// itself from an init function; vendors do the same from their own package
// and run the conformance kit (package adapters/conformance) against it.
package adapters

import (
	"context"
	"fmt"
	"maps"
	"slices"
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

// Role is what a backend's rows are in a comparison, per the tuned-reference
// policy (docs/methodology.md): the in-repo kernel under test, or an
// incumbent engine run as a competent operator would run it. The values are
// the report's row kinds.
type Role string

// The roles.
const (
	// RoleKernel is the in-repo kernel whose gap the headline states.
	RoleKernel Role = "kernel"
	// RoleReference is a tuned reference (llama.cpp, OpenVINO, a vendor's
	// engine): the headline holds the kernel against the best of them.
	RoleReference Role = "tuned_reference"
)

// Ablation is a row of one backend with one feature switched off, added by
// "fakbench run --ablations NAME".
type Ablation struct {
	// Name is the --ablations key, e.g. "generic".
	Name string
	// Label is the row's label and file name, e.g. "gokernel-generic".
	Label string
	// What says what the row shows, for its notes.
	What string
	// Extra are the Options.Extra settings that switch the feature off.
	Extra map[string]string
	// Expected are the correctness checks the row fails by design (the
	// report's failure texts start with these metric keys, e.g.
	// "warm_same_prefix.hit_rate" for a row without prefix reuse); they are
	// shown as expected, not counted as failures.
	Expected []string
	// Exclusive says the row switches process-wide state while its backend
	// is open (the Go kernel's kernel set), so it must not share the
	// process with other rows: it runs alone, never interleaved.
	Exclusive bool
}

// Entry is one registered backend.
type Entry struct {
	Name        string
	Description string
	// Display is the name people know the backend by ("llama.cpp"); empty
	// means Name.
	Display string
	// Role is what the backend's tuned-profile rows are (default
	// RoleReference: any engine but the in-repo kernel is an incumbent).
	Role Role
	// Ablations are the backend's ablation rows, in the order listed.
	Ablations []Ablation
	// SweepGrid is the default settings grid of "fakbench tune" and "run
	// --sweep" for this backend (key=v1,v2;key2=...), empty when the
	// backend has no sweep.
	SweepGrid string
	// Untuned says the backend has an "untuned" profile (the library's
	// defaults as a naive caller gets them), which "run --untuned" adds as
	// a separate row.
	Untuned bool
	Open    OpenFunc
	Caps    Caps
	// Available reports, without loading a model, whether the engine can run
	// here; nil means always available. It returns the reason when not.
	Available func() error
	// LogitTolerance is the largest absolute logit difference between the
	// backend's warm path and a cold run of the same input that is still
	// the same computation (the harness's output_equals_cold compares
	// logits against it); 0 takes harness.DefaultLogitTolerance. Each
	// backend states why its figure holds where it registers.
	LogitTolerance float64
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
	if e.Role == "" {
		e.Role = RoleReference
	}
	if e.Display == "" {
		e.Display = e.Name
	}
	registry[e.Name] = e
}

// Display returns the display name of a registered backend, or name itself
// when it is not registered.
func Display(name string) string {
	if e, err := Lookup(name); err == nil {
		return e.Display
	}
	return name
}

// WithRole lists the registered backends of a role, sorted by name.
func WithRole(r Role) []Entry {
	mu.RLock()
	defer mu.RUnlock()
	var out []Entry
	for _, n := range namesLocked() {
		if registry[n].Role == r {
			out = append(out, registry[n])
		}
	}
	return out
}

// Ablation returns the named ablation of the backend, if it has one.
func (e Entry) Ablation(name string) (Ablation, bool) {
	for _, a := range e.Ablations {
		if a.Name == name {
			return a, true
		}
	}
	return Ablation{}, false
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

func namesLocked() []string { return slices.Sorted(maps.Keys(registry)) }

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
