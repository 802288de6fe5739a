// Package tokenizer turns text into a model's token IDs and back, from the
// vocabulary a GGUF file carries, so that the same text gives every backend
// the same IDs that llama.cpp's llama_tokenize gives.
//
// It writes no tokenizer of its own: the byte-level BPE and SentencePiece
// algorithms are the pure-Go ones of ollama's tokenizer package (in the
// ollama module go.mod already requires). This package is the glue: it
// reads the tokenizer.ggml.* metadata with package gguf, picks the
// pre-tokenizer expressions llama.cpp uses for the file's
// tokenizer.ggml.pre (llama-vocab.cpp), and keeps to llama.cpp's behaviour
// where ollama's differs in ways that change the IDs:
//
//   - special-token strings are split off first, longest first, over the
//     token types llama.cpp treats as special (control, user-defined,
//     unknown), as llama.cpp's tokenizer_st_partition does; ollama tries
//     them in ID order and ignores unknown-type tokens;
//   - \s in the pre-tokenizer expressions means llama.cpp's whitespace set
//     (unicode_set_whitespace: \t \n \v \f \r, space, U+0085, U+00A0 and
//     the Unicode spaces); the regexp engine ollama uses reads \s as
//     [\t\n\f\r ] only;
//   - every expression is made to match all of its input (a catch-all
//     alternative for the runs it does not match), because ollama v0.17.4
//     re-emits the text before an unmatched run (the slice starts at 0,
//     not at the last match's end): "1ab1" came out as 1, 1, ab, 1. The
//     runs are the same pieces llama.cpp keeps between matches. (Fixed
//     upstream after v0.17.4, in ollama's "fix multi-regex BPE offset
//     handling".)
//   - SentencePiece vocabularies get llama.cpp's space prefix before the
//     text and after each special token (tokenizer.ggml.add_space_prefix,
//     default true), which ollama does not add;
//   - BOS and EOS are added as llama.cpp decides (the add_bos_token and
//     add_eos_token keys, else its default for the tokenizer type);
//   - Decode renders each token as llama.cpp's llama_token_to_piece with
//     special tokens shown: special tokens as their text, unused ones as
//     nothing.
//
// Where the two still differ is in docs/models.md ("Tokenizer") and in the
// parity test (llamacpp/tokenizer_parity_test.go).
package tokenizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/fakbench/fakbench/gguf"
	otok "github.com/ollama/ollama/tokenizer"
)

// Metadata keys the tokenizer reads (llama.cpp's LLM_KV_TOKENIZER_*).
const (
	KeyModel       = "tokenizer.ggml.model"
	KeyPre         = "tokenizer.ggml.pre"
	KeyTokens      = "tokenizer.ggml.tokens"
	KeyTokenType   = "tokenizer.ggml.token_type"
	KeyMerges      = "tokenizer.ggml.merges"
	KeyScores      = "tokenizer.ggml.scores"
	KeyBOS         = "tokenizer.ggml.bos_token_id"
	KeyEOS         = "tokenizer.ggml.eos_token_id"
	KeyAddBOS      = "tokenizer.ggml.add_bos_token"
	KeyAddEOS      = "tokenizer.ggml.add_eos_token"
	KeySpacePrefix = "tokenizer.ggml.add_space_prefix"
)

// Token types of tokenizer.ggml.token_type (llama.cpp's llama_token_type).
const (
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

// ErrNoTokenizer is wrapped by the error Open returns for a file without
// tokenizer metadata: it has token IDs only, so text cannot go in.
var ErrNoTokenizer = errors.New("the file carries no tokenizer (it can be driven with token IDs only)")

// ErrClosed is returned by Encode and Decode after Close.
var ErrClosed = errors.New("tokenizer: closed")

// Error says why a file's tokenizer cannot be built: the file, the
// metadata key at fault and what is wrong with it.
type Error struct {
	// File is the model file.
	File string
	// Key is the metadata key at fault ("" when the file itself cannot be
	// read).
	Key string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("tokenizer: ")
	b.WriteString(e.File)
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Tokenizer encodes text to token IDs and decodes IDs to text with one
// model file's vocabulary. It is safe for concurrent use.
type Tokenizer struct {
	file   string
	name   string
	spm    bool
	enc    otok.Tokenizer
	values []string
	types  []int32
	// special lists the special tokens, longest text first (ties by ID):
	// the order llama.cpp splits them off in.
	special     []int32
	addBOS      bool
	addEOS      bool
	bos, eos    int32
	spacePrefix bool
	closed      atomic.Bool
}

// Open reads the tokenizer of the GGUF file at path. A file without
// tokenizer metadata gives an error wrapping ErrNoTokenizer; every other
// error is an *Error naming the file and the key at fault.
func Open(path string) (*Tokenizer, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, &Error{File: path, Reason: "cannot read the GGUF file", Err: err}
	}
	defer f.Close()
	return FromFile(f)
}

// FromFile builds the tokenizer of an open GGUF file (the file may be
// closed afterwards: the tokenizer keeps copies of what it needs).
func FromFile(f *gguf.File) (*Tokenizer, error) {
	bad := func(key, format string, args ...any) error {
		return &Error{File: f.Path, Key: key, Reason: fmt.Sprintf(format, args...)}
	}
	model, err := f.String(KeyModel)
	if errors.Is(err, gguf.ErrNoKey) {
		return nil, &Error{File: f.Path, Key: KeyModel, Reason: "absent", Err: ErrNoTokenizer}
	}
	if err != nil {
		return nil, &Error{File: f.Path, Key: KeyModel, Err: err}
	}
	switch model {
	case "gpt2", "llama":
	default:
		return nil, bad(KeyModel, "tokenizer model %q is not supported (want gpt2, byte-level BPE, or llama, SentencePiece)", model)
	}
	t := &Tokenizer{file: f.Path, spm: model == "llama"}

	tokens, err := f.Strings(KeyTokens)
	if err != nil {
		return nil, &Error{File: f.Path, Key: KeyTokens, Err: err}
	}
	if len(tokens) == 0 {
		return nil, bad(KeyTokens, "the vocabulary is empty")
	}
	n := len(tokens)
	t.values = make([]string, n)
	seen := make(map[string]int, n)
	for i, s := range tokens {
		if s == "" {
			// llama.cpp's name for an empty token, so that it stays
			// unique and never matches text.
			s = fmt.Sprintf("[EMPTY_%d]", i)
		}
		if j, dup := seen[s]; dup {
			return nil, bad(KeyTokens, "tokens %d and %d are both %q (llama.cpp refuses a vocabulary with duplicates)", j, i, s)
		}
		seen[s] = i
		t.values[i] = s
	}

	t.types, err = intArray(f, KeyTokenType, n)
	if err != nil {
		return nil, err
	}
	if t.types == nil { // llama.cpp: every token normal
		t.types = slices.Repeat([]int32{typeNormal}, n)
	}
	scores, err := floatArray(f, KeyScores, n)
	if err != nil {
		return nil, err
	}

	// The defaults are llama.cpp's for the tokenizer type.
	t.bos, t.eos = 11, 11
	if t.spm {
		t.bos, t.eos = 1, 2
	}
	var preExprs []string
	if t.spm {
		t.name = "llama"
		t.addBOS, t.spacePrefix = true, true
		if scores == nil {
			scores = make([]float32, n) // llama.cpp: every score 0
		}
	} else {
		pre, err := f.String(KeyPre)
		switch {
		case errors.Is(err, gguf.ErrNoKey):
			pre = "default" // llama.cpp warns and uses its default
		case err != nil:
			return nil, &Error{File: f.Path, Key: KeyPre, Err: err}
		}
		p, ok := preTokenizers[pre]
		if !ok {
			return nil, bad(KeyPre, "pre-tokenizer %q is not supported (supported: %s)", pre, strings.Join(PreTokenizers(), ", "))
		}
		t.name = "gpt2/" + pre
		t.addBOS = p.addBOS
		preExprs, err = p.compiled()
		if err != nil {
			return nil, bad(KeyPre, "pre-tokenizer %q: %v", pre, err)
		}
	}
	if err := t.readSpecialIDs(f); err != nil {
		return nil, err
	}

	// ollama sees every token as normal: the special tokens are split off
	// here, as llama.cpp does, before its encoder sees the text.
	vocab := &otok.Vocabulary{
		Values: t.values,
		Types:  slices.Repeat([]int32{typeNormal}, n),
		Scores: scores,
	}
	if t.spm {
		t.enc = otok.NewSentencePiece(vocab)
	} else {
		merges, err := f.Strings(KeyMerges)
		if err != nil {
			return nil, &Error{File: f.Path, Key: KeyMerges, Reason: "a gpt2 (BPE) tokenizer needs its merges", Err: err}
		}
		for i, m := range merges {
			if sp := strings.IndexByte(m, ' '); sp < 1 || sp == len(m)-1 {
				return nil, bad(KeyMerges, "merge %d is %q, want two pieces separated by a space", i, m)
			}
		}
		vocab.Merges = merges
		bpe := otok.NewBytePairEncoding(vocab, preExprs...)
		t.enc = &bpe
	}

	for id, ty := range t.types {
		if isSpecialType(ty) {
			t.special = append(t.special, int32(id))
		}
	}
	slices.SortStableFunc(t.special, func(a, b int32) int {
		return len(t.values[b]) - len(t.values[a])
	})
	return t, nil
}

// readSpecialIDs reads the BOS/EOS IDs and whether to add them, checking
// every ID against the vocabulary.
func (t *Tokenizer) readSpecialIDs(f *gguf.File) error {
	for _, k := range []struct {
		key string
		id  *int32
	}{{KeyBOS, &t.bos}, {KeyEOS, &t.eos}} {
		v, err := f.Int(k.key)
		if errors.Is(err, gguf.ErrNoKey) {
			continue
		}
		if err != nil {
			return &Error{File: f.Path, Key: k.key, Err: err}
		}
		if v < 0 || v >= int64(len(t.values)) {
			return &Error{File: f.Path, Key: k.key, Reason: fmt.Sprintf("token %d is outside the vocabulary of %d tokens", v, len(t.values))}
		}
		*k.id = int32(v)
	}
	for _, k := range []struct {
		key string
		on  *bool
	}{{KeyAddBOS, &t.addBOS}, {KeyAddEOS, &t.addEOS}, {KeySpacePrefix, &t.spacePrefix}} {
		v, err := f.Bool(k.key)
		if errors.Is(err, gguf.ErrNoKey) {
			continue
		}
		if err != nil {
			return &Error{File: f.Path, Key: k.key, Err: err}
		}
		*k.on = v
	}
	if !t.spm {
		t.spacePrefix = false // llama.cpp: BPE never adds one
	}
	for _, k := range []struct {
		key string
		add bool
		id  int32
	}{{KeyAddBOS, t.addBOS, t.bos}, {KeyAddEOS, t.addEOS, t.eos}} {
		if k.add && int(k.id) >= len(t.values) {
			return &Error{File: f.Path, Key: k.key, Reason: fmt.Sprintf("the token to add is the default %d, outside the vocabulary of %d tokens", k.id, len(t.values))}
		}
	}
	return nil
}

// intArray reads an integer array of n elements; nil when absent.
func intArray(f *gguf.File, key string, n int) ([]int32, error) {
	return tokenArray(f, key, n, "integers", func(v any) ([]int32, bool) {
		switch v := v.(type) {
		case []int32:
			return slices.Clone(v), true
		case []uint32:
			return clampInt32(v), true
		case []int8:
			return clampInt32(v), true
		case []uint8:
			return clampInt32(v), true
		case []int16:
			return clampInt32(v), true
		case []uint16:
			return clampInt32(v), true
		case []int64:
			return clampInt32(v), true
		case []uint64:
			return clampInt32(v), true
		}
		return nil, false
	})
}

// clampInt32 converts v to int32, a value below -1 to -1 and one above 1<<30
// to 1<<30: the token types are small, and one outside that range names no
// type either way.
func clampInt32[T int8 | uint8 | int16 | uint16 | uint32 | int64 | uint64](v []T) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		if x < 0 {
			out[i] = -1
		} else {
			out[i] = int32(min(uint64(x), 1<<30))
		}
	}
	return out
}

// floatArray reads a float array of n elements; nil when absent.
func floatArray(f *gguf.File, key string, n int) ([]float32, error) {
	return tokenArray(f, key, n, "floats", func(v any) ([]float32, bool) {
		switch v := v.(type) {
		case []float32:
			return slices.Clone(v), true
		case []float64:
			out := make([]float32, len(v))
			for i, x := range v {
				out[i] = float32(x)
			}
			return out, true
		}
		return nil, false
	})
}

// tokenArray reads key, an array of one entry per token (n of them), as
// conv converts it (false: an array of no type conv takes; of says what it
// takes); nil when the key is absent.
func tokenArray[T any](f *gguf.File, key string, n int, of string, conv func(any) ([]T, bool)) ([]T, error) {
	kv, ok := f.Get(key)
	if !ok {
		return nil, nil
	}
	out, ok := conv(kv.Value)
	if !ok {
		return nil, &Error{File: f.Path, Key: key, Reason: fmt.Sprintf("is %v, want an array of %s", kv.Type, of)}
	}
	if len(out) != n {
		return nil, &Error{File: f.Path, Key: key, Reason: fmt.Sprintf("has %d entries for %d tokens", len(out), n)}
	}
	return out, nil
}

// isSpecialType says whether llama.cpp splits tokens of this type off the
// text before pre-tokenizing (cache_special_tokens).
func isSpecialType(ty int32) bool {
	return ty == typeControl || ty == typeUserDefined || ty == typeUnknown
}

// Name names the tokenizer: the tokenizer model and, for BPE, the
// pre-tokenizer ("gpt2/smollm"); "llama" for SentencePiece.
func (t *Tokenizer) Name() string { return t.name }

// File is the model file the tokenizer was read from.
func (t *Tokenizer) File() string { return t.file }

// Size is the number of tokens in the vocabulary.
func (t *Tokenizer) Size() int { return len(t.values) }

// Close releases the tokenizer; Encode and Decode fail afterwards. It is
// idempotent.
func (t *Tokenizer) Close() error {
	t.closed.Store(true)
	return nil
}

// Encode returns the token IDs of text, as llama.cpp's llama_tokenize with
// parse_special on: a special token's text (such as "<|im_start|>")
// becomes that token. addSpecial adds the BOS and EOS tokens the model
// asks for. The text must be valid UTF-8.
func (t *Tokenizer) Encode(text string, addSpecial bool) ([]int32, error) {
	return t.EncodeWith(text, Options{AddSpecial: addSpecial, ParseSpecial: true})
}

// Options are EncodeWith's switches, llama_tokenize's add_special and
// parse_special.
type Options struct {
	// AddSpecial adds the BOS and EOS tokens the model asks for.
	AddSpecial bool
	// ParseSpecial makes the text of a control or unknown-type token that
	// token; otherwise only user-defined tokens are split off whole (as in
	// llama.cpp).
	ParseSpecial bool
}

// EncodeWith is Encode with both of llama_tokenize's switches.
func (t *Tokenizer) EncodeWith(text string, o Options) ([]int32, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	if !utf8.ValidString(text) {
		i := invalidAt(text)
		return nil, fmt.Errorf("tokenizer %s: the text is not valid UTF-8 (byte %d of %d is 0x%02x)", t.name, i, len(text), text[i])
	}
	var ids []int32
	if o.AddSpecial && t.addBOS {
		ids = append(ids, t.bos)
	}
	prevSpecial := true
	for _, fr := range t.partition(text, o.ParseSpecial) {
		if fr.id >= 0 {
			ids = append(ids, fr.id)
			prevSpecial = true
			continue
		}
		s := fr.text
		if t.spacePrefix && prevSpecial {
			s = " " + s
		}
		prevSpecial = false
		got, err := t.enc.Encode(s, false)
		if err != nil {
			return nil, fmt.Errorf("tokenizer %s: %w", t.name, err)
		}
		ids = append(ids, got...)
	}
	if o.AddSpecial && t.addEOS {
		ids = append(ids, t.eos)
	}
	return ids, nil
}

// invalidAt is the offset of the first byte of s that starts no valid
// UTF-8 sequence.
func invalidAt(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return 0
}

// fragment is a special token (id >= 0) or a run of raw text (id -1).
type fragment struct {
	id   int32
	text string
}

// partition splits the special tokens' texts off text, longest first, as
// llama.cpp's tokenizer_st_partition: each special token is looked for in
// the raw runs left by the longer ones. Without parseSpecial, control and
// unknown-type tokens stay text.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{id: -1, text: text}}
	for _, id := range t.special {
		if !parseSpecial && t.types[id] != typeUserDefined {
			continue
		}
		tok := t.values[id]
		var out []fragment
		for _, fr := range frags {
			if fr.id >= 0 || !strings.Contains(fr.text, tok) {
				out = append(out, fr)
				continue
			}
			rest := fr.text
			for {
				i := strings.Index(rest, tok)
				if i < 0 {
					break
				}
				if i > 0 {
					out = append(out, fragment{id: -1, text: rest[:i]})
				}
				out = append(out, fragment{id: id})
				rest = rest[i+len(tok):]
			}
			if rest != "" {
				out = append(out, fragment{id: -1, text: rest})
			}
		}
		frags = out
	}
	return frags
}

// Decode returns the text of ids: the concatenation of llama.cpp's
// llama_token_to_piece with special tokens rendered (control, unknown and
// user-defined tokens as their text; unused ones as nothing). A piece may
// be part of a UTF-8 sequence, so the text of a cut sequence of IDs need
// not be valid UTF-8. Every ID must be in the vocabulary.
func (t *Tokenizer) Decode(ids []int32) (string, error) {
	if t.closed.Load() {
		return "", ErrClosed
	}
	var b strings.Builder
	var run []int32
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		s, err := t.enc.Decode(run)
		if err != nil {
			return fmt.Errorf("tokenizer %s: %w", t.name, err)
		}
		b.WriteString(s)
		run = run[:0]
		return nil
	}
	for i, id := range ids {
		if id < 0 || int(id) >= len(t.values) {
			return "", fmt.Errorf("tokenizer %s: token %d (at %d) is outside the vocabulary of %d tokens", t.name, id, i, len(t.values))
		}
		switch ty := t.types[id]; {
		case isSpecialType(ty):
			if err := flush(); err != nil {
				return "", err
			}
			b.WriteString(t.values[id])
		case ty == typeNormal || (ty == typeByte && t.spm):
			run = append(run, id)
		default: // unused, undefined, or a byte token in a BPE vocabulary
		}
	}
	if err := flush(); err != nil {
		return "", err
	}
	return b.String(), nil
}
