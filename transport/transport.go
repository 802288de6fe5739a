// Package transport defines the backend-neutral session contract that every
// fakbench backend implements (the Go kernel, llama.cpp, OpenVINO, and any
// vendor adapter) and that the harness drives.
//
// A Backend is a loaded model on one engine. It serves Sessions; a Session
// owns one KV cache and is driven by one goroutine at a time:
//
//	EnsurePrefix  make the stable prefix resident, reusing the longest common
//	              token prefix already in the cache;
//	PrefillSuffix drop whatever follows the prefix, prefill the volatile
//	              suffix and return the first generated token;
//	Decode        greedy generation of up to n further tokens;
//	Close         free native memory (idempotent).
//
// The package holds no cgo and no backend code.
package transport

import (
	"context"
	"time"
)

// Token is a vocabulary index as the model's embedding table numbers it.
type Token = int32

// PrefixInput is the stable part of a prompt.
type PrefixInput struct {
	// Key identifies the stable segments (the digest of their manifest). It
	// is recorded, never trusted: reuse is decided on the token IDs alone.
	Key string
	// Tokens are the prefix token IDs.
	Tokens []Token
}

// PrefixResult says what EnsurePrefix measurably did.
type PrefixResult struct {
	// ReusedTokens is how many leading tokens were already resident and kept.
	ReusedTokens int
	// ComputedTokens is how many tokens were (re)computed.
	ComputedTokens int
	// Elapsed is the wall-clock time of the call.
	Elapsed time.Duration
}

// SuffixInput is the volatile part of a prompt that follows the prefix.
type SuffixInput struct {
	Tokens []Token
}

// SuffixResult is the outcome of PrefillSuffix.
type SuffixResult struct {
	// FirstToken is the greedy (arg-max) token after the suffix.
	FirstToken Token
	// SuffixTokens is how many suffix tokens were prefilled.
	SuffixTokens int
	// TTFT is the wall-clock time from the call until FirstToken was known.
	TTFT time.Duration
}

// DecodeResult is the outcome of Decode.
type DecodeResult struct {
	// Tokens are the generated tokens, in order (not including the first
	// token returned by PrefillSuffix).
	Tokens []Token
	// Elapsed is the wall-clock time of the call.
	Elapsed time.Duration
}

// Session is one KV cache on a loaded model.
//
// Position accounting: after EnsurePrefix(p) and PrefillSuffix(s) the cache
// holds len(p)+len(s) positions and the first token t0 is pending (known, not
// yet in the cache). Decode(n) feeds the pending token, then each generated
// token in turn, and returns n new tokens t1..tn; the last one stays pending.
// Every call checks the context size before changing any state and returns an
// *OverContextError when the request does not fit.
type Session interface {
	// EnsurePrefix makes in.Tokens the resident prefix. It keeps the longest
	// common prefix of in.Tokens and the tokens already in the cache,
	// discards everything after it (including any earlier suffix and decoded
	// tokens) and computes the rest.
	EnsurePrefix(ctx context.Context, in PrefixInput) (PrefixResult, error)
	// PrefillSuffix discards whatever follows the current prefix, prefills
	// in.Tokens after it and returns the greedy next token. An empty suffix
	// is an error (there would be no position to predict from).
	PrefillSuffix(ctx context.Context, in SuffixInput) (SuffixResult, error)
	// Decode generates up to n tokens greedily after the pending token. It
	// checks ctx between tokens: on cancellation it returns the tokens made
	// so far together with an error wrapping ctx.Err(), and the session
	// stays usable (the cache holds exactly the tokens fed so far).
	Decode(ctx context.Context, n int) (DecodeResult, error)
	// Close frees the session's memory. It is idempotent; any other call
	// after Close returns ErrClosed.
	Close() error
}

// LogitsReader is implemented by sessions that can expose the logits of the
// last evaluated position (used by the parity check). The returned slice is
// a copy of length ModelInfo.VocabSize.
type LogitsReader interface {
	LastLogits() ([]float32, error)
}

// ModelInfo describes the model a Backend has loaded.
type ModelInfo struct {
	// Path is the model file.
	Path string
	// Name is the model's general.name (or the file name).
	Name string
	// Architecture is general.architecture, e.g. "llama".
	Architecture string
	// ContextLength is the number of positions one session can hold.
	ContextLength int
	// VocabSize is the number of logits per position.
	VocabSize int
	// Parameters is the number of weights.
	Parameters int64
	// WeightBytes is the size of the weights as this backend counts them
	// (informational: fakbench's decode roofline divides by a count taken
	// from the model file, the same for every backend of a run).
	WeightBytes int64
	// WeightType names the weight format, e.g. "q8_0".
	WeightType string
}

// Backend is a model loaded on one engine. It is safe to open several
// sessions on one Backend; each session is driven by one goroutine at a time.
type Backend interface {
	// Name is the registry name, e.g. "gokernel".
	Name() string
	// Version names the engine build (commit, module version, runtime version).
	Version() string
	// Settings are the engine settings that matter for reproducing a row
	// (threads, batch sizes, flash attention, KV type, build flags, ...).
	Settings() map[string]string
	// Info describes the loaded model.
	Info() ModelInfo
	// NewSession opens a fresh session with an empty cache.
	NewSession(ctx context.Context) (Session, error)
	// Close frees the model. Sessions must be closed first.
	Close() error
}

// BatchResult is the outcome of BatchDecoder.DecodeBatch.
type BatchResult struct {
	// Sequences is the number of concurrent sequences B.
	Sequences int
	// PromptTokens is the prompt length of each sequence.
	PromptTokens int
	// Steps is the number of tokens decoded per sequence.
	Steps int
	// PrefillElapsed is the time to prefill all prompts.
	PrefillElapsed time.Duration
	// DecodeElapsed is the time of the Steps decode steps for all sequences.
	DecodeElapsed time.Duration
	// Tokens holds each sequence's generated tokens.
	Tokens [][]Token
}

// Quiescer is implemented by backends whose worker threads keep polling
// for work after a call returns (llama.cpp's thread pool). The harness
// quiesces a backend before another row takes the node, so an interleaved
// schedule measures each row without the others' idle spinning.
type Quiescer interface {
	// Quiesce stops worker threads the backend keeps spinning between calls
	// (a thread pool polling for the next job), so they take no CPU from
	// whatever runs next; the next call wakes them. It is called between
	// calls only, never concurrently with one.
	Quiesce()
}

// BatchDecoder is implemented by backends that can decode several sequences
// together, each decode step sharing one read of the weights.
type BatchDecoder interface {
	// DecodeBatch prefills each prompt as its own sequence and then decodes
	// steps tokens greedily for all of them together.
	DecodeBatch(ctx context.Context, prompts [][]Token, steps int) (BatchResult, error)
}
