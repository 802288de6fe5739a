// Package models is where model specs become files, and the only place
// they do: "synthetic:PRESET[:TYPE]" (a deterministic synthetic
// Llama-architecture GGUF model at the shape of a real one, in f32, f16 or
// q8_0, generated and cached), "real:smollm2" (the model `make setup`
// fetches) and a .gguf path. Resolve checks and hashes the file; the
// backends receive the resolved file.
//
// The synthetic weights are not a trained model, but they are built so that greedy
// decoding has a clear top-1 margin at almost every position while the
// prediction depends on the previous token through attention (and so on
// the KV cache); see docs/models.md for the construction.
package models

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fakbench/fakbench/gokernel/kernels"
)

// Preset is the shape of a synthetic model.
type Preset struct {
	// Name is the preset's name, e.g. "tiny".
	Name string
	// Embd is the embedding width.
	Embd int
	// Layers is the number of transformer blocks.
	Layers int
	// Heads is the number of query heads.
	Heads int
	// KVHeads is the number of key/value heads (grouped-query attention).
	KVHeads int
	// FFN is the feed-forward hidden width.
	FFN int
	// Vocab is the vocabulary size.
	Vocab int
	// Ctx is the training context length written to llama.context_length.
	Ctx int
	// RopeBase is the rotary embedding frequency base.
	RopeBase float32
	// NormEps is the RMSNorm epsilon.
	NormEps float32
}

// HeadDim is the per-head width (Embd/Heads).
func (p Preset) HeadDim() int { return p.Embd / p.Heads }

var presets = map[string]Preset{
	// tiny: for tests; every matrix column count is a multiple of 32 so
	// q8_0 works, and the f32 file is a few MB.
	"tiny": {Name: "tiny", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 192, Vocab: 512, Ctx: 512,
		RopeBase: 10000, NormEps: 1e-5},
	// smol135m: the shape of SmolLM2-135M.
	"smol135m": {Name: "smol135m", Embd: 576, Layers: 30, Heads: 9, KVHeads: 3, FFN: 1536, Vocab: 49152, Ctx: 2048,
		RopeBase: 100000, NormEps: 1e-5},
	// llama1b: the shape of Llama-3.2-1B (without its long-context RoPE
	// scaling; the context is capped at 4096, which covers every scenario).
	"llama1b": {Name: "llama1b", Embd: 2048, Layers: 16, Heads: 32, KVHeads: 8, FFN: 8192, Vocab: 128256, Ctx: 4096,
		RopeBase: 500000, NormEps: 1e-5},
}

// PresetNames returns the known preset names, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupPreset returns the named preset, or an error listing the known ones.
func LookupPreset(name string) (Preset, error) {
	p, ok := presets[name]
	if !ok {
		return Preset{}, fmt.Errorf("unknown synthetic preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return p, nil
}

// Validate checks that the shape is one the generator can build.
func (p Preset) Validate() error {
	switch {
	case p.Embd <= 0 || p.Layers <= 0 || p.Heads <= 0 || p.KVHeads <= 0 || p.FFN <= 0 || p.Ctx <= 1:
		return fmt.Errorf("preset %q: every size must be positive (and ctx > 1): %+v", p.Name, p)
	case p.Embd%p.Heads != 0:
		return fmt.Errorf("preset %q: embd %d is not a multiple of heads %d", p.Name, p.Embd, p.Heads)
	case p.Heads%p.KVHeads != 0:
		return fmt.Errorf("preset %q: heads %d is not a multiple of kv heads %d", p.Name, p.Heads, p.KVHeads)
	case p.HeadDim()%2 != 0 || p.HeadDim() < 4:
		return fmt.Errorf("preset %q: head dim %d must be even and at least 4", p.Name, p.HeadDim())
	case p.Embd%kernels.QK8_0 != 0 || p.FFN%kernels.QK8_0 != 0:
		return fmt.Errorf("preset %q: embd %d and ffn %d must be multiples of %d", p.Name, p.Embd, p.FFN, kernels.QK8_0)
	case p.Embd < 16:
		return fmt.Errorf("preset %q: embd %d is too small (want >= 16)", p.Name, p.Embd)
	case p.Vocab < firstFiller+8:
		return fmt.Errorf("preset %q: vocab %d is too small (want >= %d)", p.Name, p.Vocab, firstFiller+8)
	case !(p.RopeBase > 1) || !(p.NormEps > 0):
		return fmt.Errorf("preset %q: rope base %v must be > 1 and norm eps %v > 0", p.Name, p.RopeBase, p.NormEps)
	}
	return nil
}

// SpecPrefix starts a synthetic model spec.
const SpecPrefix = "synthetic:"

// Spec names a synthetic model: a preset and a weight type.
type Spec struct {
	Preset string
	Type   kernels.Type
}

// ParseType parses a weight type name: f32, f16 or q8_0.
func ParseType(s string) (kernels.Type, error) {
	switch s {
	case "f32":
		return kernels.TypeF32, nil
	case "f16":
		return kernels.TypeF16, nil
	case "q8_0":
		return kernels.TypeQ8_0, nil
	}
	return 0, fmt.Errorf("unknown weight type %q (want f32, f16 or q8_0)", s)
}

// ParseSpec parses "synthetic:PRESET[:TYPE]"; the type defaults to f32.
func ParseSpec(s string) (Spec, error) {
	rest, ok := strings.CutPrefix(s, SpecPrefix)
	if !ok {
		return Spec{}, fmt.Errorf("model spec %q: want synthetic:PRESET[:TYPE]", s)
	}
	parts := strings.Split(rest, ":")
	if len(parts) > 2 || parts[0] == "" {
		return Spec{}, fmt.Errorf("model spec %q: want synthetic:PRESET[:TYPE] (presets: %s; types: f32, f16, q8_0)",
			s, strings.Join(PresetNames(), ", "))
	}
	if _, err := LookupPreset(parts[0]); err != nil {
		return Spec{}, fmt.Errorf("model spec %q: %w", s, err)
	}
	spec := Spec{Preset: parts[0], Type: kernels.TypeF32}
	if len(parts) == 2 {
		t, err := ParseType(parts[1])
		if err != nil {
			return Spec{}, fmt.Errorf("model spec %q: %w", s, err)
		}
		spec.Type = t
	}
	return spec, nil
}

// String returns the canonical spec, with the type always given:
// "synthetic:tiny:f32".
func (s Spec) String() string { return SpecPrefix + s.Preset + ":" + s.Type.String() }
