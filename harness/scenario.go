// Package harness drives the scenarios of the report contract
// (docs/methodology.md: cold full prefill, warm same prefix, warm changed
// suffix, edited stable segment, decode, the suffix TTFT curve and the
// failure cases) against any transport.Backend, with the same
// deterministic token IDs for every backend of a run, a discarded warm-up,
// repeated samples and their statistics.
package harness

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// ReservedLowTokens is the number of low token IDs the scenarios avoid when
// the vocabulary allows it: Llama-family vocabularies put their control tokens
// and 256 byte tokens first, so IDs from 259 on are ordinary text pieces.
const ReservedLowTokens = 259

// minTokenSpan is the smallest ordinary range (vocab - ReservedLowTokens) for
// which the reserved IDs are avoided; smaller vocabularies use [0, vocab).
const minTokenSpan = 32

// minContext is the smallest context a scenario can be planned for.
const minContext = 16

// Default sizes. Full sizes follow a workspace-context turn: a large stable
// prefix (system prompt, files) with a short volatile suffix (the new turn).
var (
	fullSizes  = sizes{stable: 1024, suffix: 64, curve: []int{1, 8, 32, 128, 512}, decode: 128, compare: 16}
	shortSizes = sizes{stable: 128, suffix: 16, curve: []int{1, 16, 64}, decode: 16, compare: 16}
)

type sizes struct {
	stable, suffix int
	curve          []int
	decode         int
	compare        int
}

// ScenarioParams choose the token plan. Vocab and Context are the minimum
// over every backend of a run, so that all of them get identical token IDs.
// Zero-valued size fields take the defaults for the context (full or short).
type ScenarioParams struct {
	// Vocab is the vocabulary size (token IDs are drawn below it).
	Vocab int
	// Context is the number of positions a session holds.
	Context int
	// Short selects the small smoke-run sizes.
	Short bool
	// Seed selects the token IDs; the same seed gives the same IDs.
	Seed uint64

	// StableTokens overrides the stable prefix length.
	StableTokens int
	// SuffixTokens overrides the baseline (and changed) suffix length.
	SuffixTokens int
	// CurveSizes overrides the suffix TTFT curve sizes (used as given, not clipped).
	CurveSizes []int
	// MaxDecode overrides the number of decode steps measured.
	MaxDecode int
	// CompareSteps overrides the decode steps compared for output_equals_cold.
	CompareSteps int
	// EditAt overrides the index of the edited stable token (default: the middle).
	EditAt int

	// Prompt, when set, is a tokenized text (fakbench run --prompt-file):
	// the stable prefix and the suffixes are cut from it (BuildScenario
	// says how) instead of drawn from Seed.
	Prompt []transport.Token `json:",omitempty"`
	// PromptFile, PromptSHA256 and Tokenizer say where Prompt came from:
	// the file as given, the sha256 (hex) of its bytes and the tokenizer
	// that made the IDs. The reports record them (Shape).
	PromptFile, PromptSHA256, Tokenizer string `json:",omitempty"`
}

// Scenario is the token plan every backend of a run receives.
type Scenario struct {
	// Params are the parameters the plan was built from.
	Params ScenarioParams
	// TokenMin and TokenMax bound every token ID: TokenMin <= id < TokenMax.
	TokenMin, TokenMax int

	// Stable is the stable prefix.
	Stable []transport.Token
	// Suffix is the baseline volatile suffix.
	Suffix []transport.Token
	// ChangedSuffix has Suffix's length and differs from it: at every
	// position in the drawn plan, somewhere in a prompt's.
	ChangedSuffix []transport.Token
	// EditedStable equals Stable except at EditAt.
	EditedStable []transport.Token
	// EditAt is the index of the one token that differs in EditedStable.
	EditAt int
	// CurveSizes are the suffix lengths of the TTFT curve, ascending.
	CurveSizes []int
	// CurveSuffixes holds one suffix per curve size.
	CurveSuffixes [][]transport.Token
	// MaxDecode is the number of tokens the decode scenario generates.
	MaxDecode int
	// CompareSteps is the number of decode steps compared (after the first
	// token) when checking that a warm result equals a cold one.
	CompareSteps int
}

// Streams of the generator, one per token list.
const (
	streamStable = iota + 1
	streamSuffix
	streamChanged
	streamEdit
	streamCurve
	streamOverflow
)

// BuildScenario makes the deterministic token plan for p. It returns an error
// naming the field and sizes when the plan cannot fit the context or the
// vocabulary.
//
// With a Prompt, the lists are consecutive pieces of it: with S, U and C
// the planned stable, suffix and longest curve sizes, the stable prefix is
// its first S tokens, the suffix the U after them, the changed suffix the
// next U, and each curve suffix of n tokens the n that follow the stable
// prefix (the curve measures the same continuation at growing lengths). A
// prompt shorter than S + max(2U, C) gives up stable tokens first: the
// stable prefix is what is left before max(2U, C) tokens, at least 2. The
// edited stable prefix changes the token at EditAt to a drawn one, as in
// the drawn plan. Tokens past the plan are not used.
func BuildScenario(p ScenarioParams) (Scenario, error) {
	if p.Vocab < 2 {
		return Scenario{}, fmt.Errorf("harness: scenario: vocab size %d is too small (need at least 2 tokens)", p.Vocab)
	}
	if p.Context < minContext {
		return Scenario{}, fmt.Errorf("harness: scenario: context length %d is too small (need at least %d positions)", p.Context, minContext)
	}
	sz, err := planSizes(p)
	if err != nil {
		return Scenario{}, err
	}

	sc := Scenario{Params: p, TokenMin: 0, TokenMax: p.Vocab}
	if p.Vocab-ReservedLowTokens >= minTokenSpan {
		sc.TokenMin = ReservedLowTokens
	}
	lo, hi := sc.TokenMin, sc.TokenMax

	if p.Prompt != nil {
		if err := cutPrompt(&sc, &sz); err != nil {
			return Scenario{}, err
		}
	} else {
		sc.Stable = newTokenRand(p.Seed, streamStable).tokens(sz.stable, lo, hi)
		sc.Suffix = newTokenRand(p.Seed, streamSuffix).tokens(sz.suffix, lo, hi)
		rc := newTokenRand(p.Seed, streamChanged)
		sc.ChangedSuffix = make([]transport.Token, sz.suffix)
		for i, t := range sc.Suffix {
			sc.ChangedSuffix[i] = rc.other(t, lo, hi)
		}
	}

	sc.EditAt = p.EditAt
	if sc.EditAt == 0 {
		sc.EditAt = sz.stable / 2
	}
	if sc.EditAt < 1 || sc.EditAt >= sz.stable {
		return Scenario{}, fmt.Errorf("harness: scenario: edit index %d must lie inside the stable prefix (1 <= edit < %d)", sc.EditAt, sz.stable)
	}
	sc.EditedStable = slices.Clone(sc.Stable)
	sc.EditedStable[sc.EditAt] = newTokenRand(p.Seed, streamEdit).other(sc.Stable[sc.EditAt], lo, hi)

	sc.CurveSizes = slices.Clone(sz.curve)
	rcv := newTokenRand(p.Seed, streamCurve)
	for _, n := range sc.CurveSizes {
		if p.Prompt != nil {
			sc.CurveSuffixes = append(sc.CurveSuffixes, slices.Clone(p.Prompt[sz.stable:sz.stable+n]))
			continue
		}
		sc.CurveSuffixes = append(sc.CurveSuffixes, rcv.tokens(n, lo, hi))
	}
	sc.MaxDecode = sz.decode
	sc.CompareSteps = sz.compare
	return sc, nil
}

// cutPrompt cuts the stable prefix, the suffix and the changed suffix out
// of sc.Params.Prompt (see BuildScenario), giving up stable tokens when the
// prompt is short; sz.stable becomes the stable length used.
func cutPrompt(sc *Scenario, sz *sizes) error {
	t := sc.Params.Prompt
	for i, id := range t {
		if id < 0 || int(id) >= sc.Params.Vocab {
			return fmt.Errorf("harness: scenario: prompt token %d is %d, outside the vocabulary of %d", i, id, sc.Params.Vocab)
		}
	}
	after := max(2*sz.suffix, slices.Max(sz.curve))
	if len(t)-after < 2 {
		return fmt.Errorf("harness: scenario: the prompt gives %d tokens; the scenarios need at least %d (a stable prefix of 2, then max(2 x suffix %d, longest curve suffix %d)): give a longer text, or --short",
			len(t), 2+after, sz.suffix, slices.Max(sz.curve))
	}
	sz.stable = min(sz.stable, len(t)-after)
	sc.Stable = slices.Clone(t[:sz.stable])
	sc.Suffix = slices.Clone(t[sz.stable : sz.stable+sz.suffix])
	sc.ChangedSuffix = slices.Clone(t[sz.stable+sz.suffix : sz.stable+2*sz.suffix])
	if slices.Equal(sc.Suffix, sc.ChangedSuffix) {
		return fmt.Errorf("harness: scenario: the prompt repeats itself: its changed suffix (tokens %d to %d) equals its suffix, so warm_changed_suffix would change nothing",
			sz.stable+sz.suffix, sz.stable+2*sz.suffix-1)
	}
	return nil
}

// planSizes resolves the defaults and overrides and checks the fit.
func planSizes(p ScenarioParams) (sizes, error) {
	def := fullSizes
	if p.Short {
		def = shortSizes
	}
	def.curve = slices.Clone(def.curve)
	// Scale the defaults down for a context that cannot hold them.
	if def.stable+slices.Max(def.curve)+def.decode > p.Context {
		def.stable = min(def.stable, p.Context/2)
		def.decode = max(1, min(def.decode, p.Context/8))
		def.suffix = max(1, min(def.suffix, p.Context/16))
		def.compare = min(def.compare, def.decode)
		avail := p.Context - def.stable - def.decode
		def.suffix = min(def.suffix, avail)
		def.curve = slices.DeleteFunc(def.curve, func(n int) bool { return n > avail })
	}

	sz := def
	if p.StableTokens != 0 {
		sz.stable = p.StableTokens
	}
	if p.SuffixTokens != 0 {
		sz.suffix = p.SuffixTokens
	}
	if p.CurveSizes != nil {
		sz.curve = slices.Clone(p.CurveSizes)
	}
	if p.MaxDecode != 0 {
		sz.decode = p.MaxDecode
	}
	if p.CompareSteps != 0 {
		sz.compare = p.CompareSteps
	} else {
		sz.compare = min(sz.compare, sz.decode)
	}

	switch {
	case sz.stable < 2:
		return sizes{}, fmt.Errorf("harness: scenario: stable prefix of %d tokens is too short (need at least 2 to edit one)", sz.stable)
	case sz.suffix < 1:
		return sizes{}, fmt.Errorf("harness: scenario: suffix of %d tokens is too short (need at least 1)", sz.suffix)
	case sz.decode < 1:
		return sizes{}, fmt.Errorf("harness: scenario: max decode %d must be at least 1", sz.decode)
	case sz.compare < 1:
		return sizes{}, fmt.Errorf("harness: scenario: compare steps %d must be at least 1", sz.compare)
	case sz.compare > sz.decode:
		return sizes{}, fmt.Errorf("harness: scenario: compare steps %d exceed max decode %d", sz.compare, sz.decode)
	case len(sz.curve) == 0:
		return sizes{}, fmt.Errorf("harness: scenario: the suffix TTFT curve has no sizes")
	}
	for i, n := range sz.curve {
		if n < 1 {
			return sizes{}, fmt.Errorf("harness: scenario: suffix curve size %d (index %d) must be at least 1", n, i)
		}
		if i > 0 && n <= sz.curve[i-1] {
			return sizes{}, fmt.Errorf("harness: scenario: suffix curve sizes must be strictly ascending (%d after %d)", n, sz.curve[i-1])
		}
	}
	maxSuffix := max(sz.suffix, slices.Max(sz.curve))
	if need := sz.stable + maxSuffix + sz.decode; need > p.Context {
		return sizes{}, fmt.Errorf("harness: scenario: stable %d + max suffix %d + decode %d = %d positions exceed the context length %d",
			sz.stable, maxSuffix, sz.decode, need, p.Context)
	}
	return sz, nil
}

// Digest is the sha256 (hex) over every token ID list of the plan, in a
// fixed order with each list's length: the token-ID digest of the reports.
// Two backends given scenarios with the same digest received the same IDs.
func (s Scenario) Digest() string {
	h := sha256.New()
	var buf [4]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(buf[:], v)
		h.Write(buf[:])
	}
	list := func(toks []transport.Token) {
		put(uint32(len(toks)))
		for _, t := range toks {
			put(uint32(t))
		}
	}
	list(s.Stable)
	list(s.Suffix)
	list(s.ChangedSuffix)
	list(s.EditedStable)
	put(uint32(len(s.CurveSuffixes)))
	for _, c := range s.CurveSuffixes {
		list(c)
	}
	put(uint32(s.MaxDecode))
	put(uint32(s.CompareSteps))
	return hex.EncodeToString(h.Sum(nil))
}

// StableKey is the PrefixInput key of the stable prefix (a digest of its IDs).
func (s Scenario) StableKey() string { return tokensKey("stable", s.Stable) }

// EditedKey is the PrefixInput key of the edited stable prefix.
func (s Scenario) EditedKey() string { return tokensKey("edited", s.EditedStable) }

func tokensKey(label string, toks []transport.Token) string {
	h := sha256.New()
	h.Write([]byte(label))
	var buf [4]byte
	for _, t := range toks {
		binary.LittleEndian.PutUint32(buf[:], uint32(t))
		h.Write(buf[:])
	}
	return label + ":" + hex.EncodeToString(h.Sum(nil))[:16]
}

// OverflowTokens returns n deterministic token IDs (from the scenario's seed
// and range) used to build requests past a backend's own context length.
// They depend on that backend's context, so they are not in Digest.
func (s Scenario) OverflowTokens(n int) []transport.Token {
	if n <= 0 {
		return nil
	}
	return newTokenRand(s.Params.Seed, streamOverflow).tokens(n, s.TokenMin, s.TokenMax)
}

// Shape is the report's record of the plan's token counts.
func (s Scenario) Shape() *report.ScenarioShape {
	return &report.ScenarioShape{
		StableTokens:        len(s.Stable),
		SuffixTokens:        len(s.Suffix),
		ChangedSuffixTokens: len(s.ChangedSuffix),
		EditAt:              s.EditAt,
		SuffixCurve:         slices.Clone(s.CurveSizes),
		MaxDecode:           s.MaxDecode,
		CompareSteps:        s.CompareSteps,
		PromptFile:          s.Params.PromptFile,
		PromptSHA256:        s.Params.PromptSHA256,
		Tokenizer:           s.Params.Tokenizer,
	}
}

// MaxPositions is the largest number of positions any scenario of the plan
// occupies (stable + the longest suffix + the decode steps).
func (s Scenario) MaxPositions() int {
	maxSuffix := len(s.Suffix)
	for _, c := range s.CurveSuffixes {
		maxSuffix = max(maxSuffix, len(c))
	}
	return len(s.Stable) + maxSuffix + s.MaxDecode
}

// ParamsFor returns scenario parameters for a run over the given model
// descriptions: the smallest vocabulary and context of them all, so that every
// backend can take the same token IDs.
func ParamsFor(short bool, seed uint64, infos ...transport.ModelInfo) (ScenarioParams, error) {
	if len(infos) == 0 {
		return ScenarioParams{}, fmt.Errorf("harness: no backend to plan a scenario for")
	}
	p := ScenarioParams{Short: short, Seed: seed, Vocab: infos[0].VocabSize, Context: infos[0].ContextLength}
	for _, in := range infos[1:] {
		p.Vocab = min(p.Vocab, in.VocabSize)
		p.Context = min(p.Context, in.ContextLength)
	}
	return p, nil
}
