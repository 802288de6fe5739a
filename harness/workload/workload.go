// Package workload is the pinned real-workload shape of the node-bench method
// (docs/methodology.md): per turn the stable-prefix, suffix and completion
// lengths of an agent's requests, with a provenance that says plainly how the
// numbers were obtained.
//
// A workload of lengths needs no tokenizer: Replay feeds deterministic
// token IDs at the recorded lengths (see TokenStream), so the measured cost
// is shape-driven and token identity carries no semantic claim. Turns may
// instead carry their prompts as text, which Tokenize turns into the
// model's token IDs before a replay.
//
// Caps (FAK_WORKLOAD_PREFILL_CAP, FAK_WORKLOAD_PROMPT_CAP) shorten the
// replayed prompts for smoke runs; unset or 0 means uncapped, and every cap
// that was applied is recorded so a capped run can never pass for a full one.
package workload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/transport"
)

// Version is the current workload file format.
const Version = "fakbench.workload/v1"

// Provenance says where a workload's numbers came from.
type Provenance struct {
	// Source names the origin: a log file, a generator, a recording.
	Source string `json:"source"`
	// Method says how the lengths were obtained ("derived from request
	// log", "synthetic generator", ...).
	Method string `json:"method"`
	// CreatedAt is an RFC 3339 time stamp.
	CreatedAt string `json:"created_at"`
	// Notes hold assumptions and caveats a reader must know.
	Notes []string `json:"notes,omitempty"`
}

// Turn is one request of an agent conversation.
type Turn struct {
	// Conversation groups turns that share one live session. Turns of one
	// conversation replay on the same session, in file order, so a stable
	// prefix can stay warm between them. Empty means "default".
	Conversation string `json:"conversation,omitempty"`
	// StableTokens is the length of the prompt prefix that the server could
	// serve from its cache (system prompt, tools, earlier history).
	StableTokens int `json:"stable_tokens"`
	// SuffixTokens is the volatile rest of the prompt (at least 1).
	SuffixTokens int `json:"suffix_tokens"`
	// CompletionTokens is the number of generated tokens (at least 1: the
	// first token comes from the prefill).
	CompletionTokens int `json:"completion_tokens"`
	// StableText and SuffixText, when given, are the turn's prompt as text
	// instead of lengths: Tokenize turns them into token IDs with the
	// model's tokenizer and sets StableTokens and SuffixTokens to their
	// counts (which the file leaves out). Every turn of a conversation
	// has text, or none does.
	StableText string `json:"stable_text,omitempty"`
	SuffixText string `json:"suffix_text,omitempty"`

	// prompt is the tokenized text, stable then suffix (Tokenize).
	prompt []transport.Token
}

// HasText says the turn gives its prompt as text.
func (t Turn) HasText() bool { return t.StableText != "" || t.SuffixText != "" }

// PromptTokens is the full prompt length of the turn.
func (t Turn) PromptTokens() int { return t.StableTokens + t.SuffixTokens }

// Workload is a pinned sequence of turns with its provenance.
type Workload struct {
	Version    string     `json:"version"`
	Provenance Provenance `json:"provenance"`
	Turns      []Turn     `json:"turns"`
}

// Load reads and validates a workload file.
func Load(path string) (Workload, error) {
	f, err := os.Open(path)
	if err != nil {
		return Workload{}, fmt.Errorf("workload: %w", err)
	}
	defer f.Close()
	w, err := Parse(f)
	if err != nil {
		return Workload{}, fmt.Errorf("workload %s: %w", path, err)
	}
	return w, nil
}

// Parse decodes a workload (unknown fields are an error, so a typo cannot
// silently drop a field) and validates it.
func Parse(r io.Reader) (Workload, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var w Workload
	if err := dec.Decode(&w); err != nil {
		return Workload{}, fmt.Errorf("decoding JSON: %w", err)
	}
	if dec.More() {
		return Workload{}, errors.New("trailing data after the workload object")
	}
	if err := w.Validate(); err != nil {
		return Workload{}, err
	}
	return w, nil
}

// Validate checks the format version, the provenance and every turn.
func (w Workload) Validate() error {
	if w.Version != Version {
		return fmt.Errorf("version %q: want %q", w.Version, Version)
	}
	if strings.TrimSpace(w.Provenance.Source) == "" {
		return errors.New("provenance.source is empty: say where the numbers came from")
	}
	if strings.TrimSpace(w.Provenance.Method) == "" {
		return errors.New("provenance.method is empty: say how the numbers were obtained")
	}
	if len(w.Turns) == 0 {
		return errors.New("turns: no turns")
	}
	text := map[string]bool{}
	for i, t := range w.Turns {
		if had, seen := text[t.Conversation]; seen && had != t.HasText() {
			return fmt.Errorf("turns[%d]: conversation %q mixes turns with text and turns with token counts only", i, t.Conversation)
		}
		text[t.Conversation] = t.HasText()
		if t.HasText() {
			if err := t.validateText(i); err != nil {
				return err
			}
			continue
		}
		switch {
		case t.StableTokens < 0:
			return fmt.Errorf("turns[%d].stable_tokens = %d: must be >= 0", i, t.StableTokens)
		case t.SuffixTokens < 1:
			return fmt.Errorf("turns[%d].suffix_tokens = %d: must be >= 1 (a prompt needs a position to predict from)", i, t.SuffixTokens)
		case t.CompletionTokens < 1:
			return fmt.Errorf("turns[%d].completion_tokens = %d: must be >= 1", i, t.CompletionTokens)
		}
	}
	return nil
}

// Canonical is the workload's canonical JSON: compact, fields in declaration
// order, no trailing newline. Digest hashes it.
func (w Workload) Canonical() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Digest is "sha256:" + the hex SHA-256 of the canonical JSON. Two files
// that differ only in whitespace have the same digest.
func (w Workload) Digest() (string, error) {
	b, err := w.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Stats summarises a workload's shape.
type Stats struct {
	Turns            int `json:"turns"`
	Conversations    int `json:"conversations"`
	MaxPromptTokens  int `json:"max_prompt_tokens"`
	MaxContextTokens int `json:"max_context_tokens"` // prompt + completion
	StableTokens     int `json:"stable_tokens_total"`
	SuffixTokens     int `json:"suffix_tokens_total"`
	CompletionTokens int `json:"completion_tokens_total"`
}

// Stats computes the workload's totals and maxima.
func (w Workload) Stats() Stats {
	s := Stats{Turns: len(w.Turns)}
	convs := map[string]bool{}
	for _, t := range w.Turns {
		convs[t.Conversation] = true
		s.MaxPromptTokens = max(s.MaxPromptTokens, t.PromptTokens())
		s.MaxContextTokens = max(s.MaxContextTokens, t.PromptTokens()+t.CompletionTokens)
		s.StableTokens += t.StableTokens
		s.SuffixTokens += t.SuffixTokens
		s.CompletionTokens += t.CompletionTokens
	}
	s.Conversations = len(convs)
	return s
}

// Caps are the prompt-length caps of a run; 0 means uncapped.
type Caps struct {
	PrefillCap int `json:"prefill_cap"`
	PromptCap  int `json:"prompt_cap"`
}

// Uncapped reports whether no cap is set.
func (c Caps) Uncapped() bool { return c.PrefillCap == 0 && c.PromptCap == 0 }

// CapsFromEnv reads the caps from the environment: FAK_WORKLOAD_PREFILL_CAP
// caps the prompts workload replay feeds, FAK_WORKLOAD_PROMPT_CAP those of
// the batch workload diagnostic (env.WorkloadPrefillCap and
// env.WorkloadPromptCap). Unset, empty or 0 is uncapped; anything else must
// be an integer of at least 2, else the error is an *env.Error naming the
// variable.
func CapsFromEnv() (Caps, error) {
	var c Caps
	var err error
	if c.PrefillCap, err = readCap(env.WorkloadPrefillCap); err != nil {
		return Caps{}, err
	}
	if c.PromptCap, err = readCap(env.WorkloadPromptCap); err != nil {
		return Caps{}, err
	}
	return c, nil
}

// readCap reads one cap variable.
func readCap(v *env.IntVar) (int, error) {
	const want = "a non-negative integer (0 or unset = uncapped)"
	n, err := v.Int(0)
	if bad := (*env.Error)(nil); errors.As(err, &bad) {
		return 0, &env.Error{Name: bad.Name, Value: bad.Value, Want: want}
	}
	if err != nil {
		return 0, err
	}
	switch {
	case n < 0:
		return 0, &env.Error{Name: v.Name, Value: strconv.Itoa(n), Want: want}
	case n == 1:
		return 0, &env.Error{Name: v.Name, Value: "1",
			Want: "at least 2, as a capped prompt needs one stable and one suffix token (0 = uncapped)"}
	}
	return n, nil
}

// CapResult records what a cap did to a workload.
type CapResult struct {
	Cap           int `json:"cap"`
	CappedTurns   int `json:"capped_turns"`
	DroppedTokens int `json:"dropped_prompt_tokens"`
}

// ApplyCap cuts every prompt longer than limit to its first limit tokens,
// keeping at least one suffix token: stable' = min(stable, limit-1),
// suffix' = limit - stable'. Cutting from the end keeps the turns of a
// conversation prefixes of one another, so prefix reuse still behaves as it
// would uncapped. limit 0 returns w unchanged.
func ApplyCap(w Workload, limit int) (Workload, CapResult) {
	res := CapResult{Cap: limit}
	if limit <= 0 {
		return w, res
	}
	out := w
	out.Turns = make([]Turn, len(w.Turns))
	for i, t := range w.Turns {
		if t.PromptTokens() > limit {
			nt := t
			nt.StableTokens = min(t.StableTokens, limit-1)
			nt.SuffixTokens = limit - nt.StableTokens
			if t.prompt != nil {
				nt.prompt = t.prompt[:limit]
			}
			res.CappedTurns++
			res.DroppedTokens += t.PromptTokens() - limit
			t = nt
		}
		out.Turns[i] = t
	}
	return out, res
}

// Head returns the first n turns of every conversation (short runs). n <= 0
// returns w unchanged.
func Head(w Workload, n int) Workload {
	if n <= 0 {
		return w
	}
	seen := map[string]int{}
	out := w
	out.Turns = nil
	for _, t := range w.Turns {
		if seen[t.Conversation] < n {
			out.Turns = append(out.Turns, t)
		}
		seen[t.Conversation]++
	}
	return out
}

// Describe prints the workload as fakbench workload show does: its digest
// and provenance, its totals, and one line per turn. path names the file
// it was read from.
func (w *Workload) Describe(out io.Writer, path string) {
	d, _ := w.Digest()
	s := w.Stats()
	fmt.Fprintf(out, "workload %s\n  digest      %s\n  source      %s\n  method      %s\n  created     %s\n", path, d, w.Provenance.Source, w.Provenance.Method, w.Provenance.CreatedAt)
	for _, n := range w.Provenance.Notes {
		fmt.Fprintf(out, "  note        %s\n", n)
	}
	fmt.Fprintf(out, "  turns       %d in %d conversation(s)\n  tokens      stable %d, suffix %d, completion %d\n  max prompt  %d (with completion %d)\n\n",
		s.Turns, s.Conversations, s.StableTokens, s.SuffixTokens, s.CompletionTokens, s.MaxPromptTokens, s.MaxContextTokens)
	fmt.Fprintf(out, "%4s  %-14s %8s %8s %10s\n", "turn", "conversation", "stable", "suffix", "completion")
	for i, t := range w.Turns {
		stable, suffix := strconv.Itoa(t.StableTokens), strconv.Itoa(t.SuffixTokens)
		if t.HasText() && t.prompt == nil {
			stable, suffix = "text", "text" // the model's tokenizer counts them
		}
		fmt.Fprintf(out, "%4d  %-14s %8s %8s %10d\n", i, t.Conversation, stable, suffix, t.CompletionTokens)
	}
}
