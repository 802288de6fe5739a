package workload

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// DeriveOptions tune Derive.
type DeriveOptions struct {
	// Source goes into provenance.source (e.g. the log file name).
	Source string
	// StableFraction is the documented split used when a line says nothing
	// about reuse (no cached-token count and no earlier turn of the same
	// conversation): stable = floor(prompt * StableFraction), capped so at
	// least one suffix token remains. The default 0 treats such a request as
	// a cold prompt with no reuse, which never flatters a run.
	StableFraction float64
	// Now stamps provenance.created_at (time.Now when zero).
	Now time.Time
}

// logLine is what Derive reads from one request-log line. Every field is
// optional; which ones are present decides how the turn is built.
type logLine struct {
	Usage          *usage   `json:"usage"`
	Timings        *timings `json:"timings"`
	Conversation   string   `json:"conversation"`
	ConversationID string   `json:"conversation_id"`
	SessionID      string   `json:"session_id"`
	// A bare usage object or bare timings object at the top level.
	usage
	timings
}

// usage is an OpenAI-compatible usage object.
type usage struct {
	PromptTokens        *int `json:"prompt_tokens"`
	CompletionTokens    *int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens *int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

// timings is a llama.cpp server timings object: prompt_n tokens were
// evaluated, cache_n were served from the cache, predicted_n generated.
type timings struct {
	PromptN    *int `json:"prompt_n"`
	PredictedN *int `json:"predicted_n"`
	CacheN     *int `json:"cache_n"`
}

// record is one request's counts as Derive understood them.
type record struct {
	prompt, completion int
	cached             int
	hasCached          bool
	conversation       string
}

// Derive builds a workload from a request log: JSON lines, one request per
// line, each holding an OpenAI-compatible `usage` object (or a bare one:
// prompt_tokens, completion_tokens, prompt_tokens_details.cached_tokens) or a
// llama.cpp server `timings` object (prompt_n, predicted_n, cache_n). An
// optional top-level "conversation", "conversation_id" or "session_id"
// groups requests into conversations. Blank lines are skipped; any other
// unusable line is an error naming its line number.
//
// The stable prefix of a turn is, in order of preference: the cached-token
// count the server logged; else the previous turn of the same conversation
// (its prompt plus completion, the history a chat client resends), bounded
// by this prompt; else floor(prompt * StableFraction). Stable is always at
// most prompt-1 so the suffix has a token to predict from.
func Derive(r io.Reader, opts DeriveOptions) (Workload, error) {
	if opts.StableFraction < 0 || opts.StableFraction >= 1 {
		return Workload{}, fmt.Errorf("stable fraction %v: want 0 <= f < 1", opts.StableFraction)
	}
	var recs []record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		rec, err := parseLine(line)
		if err != nil {
			return Workload{}, fmt.Errorf("line %d: %w", lineNo, err)
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return Workload{}, fmt.Errorf("line %d: reading: %w", lineNo+1, err)
	}
	if len(recs) == 0 {
		return Workload{}, errors.New("no requests in the log (every line was blank)")
	}

	var (
		turns       []Turn
		last        = map[string]record{}
		seen        = map[string]bool{}
		fromCache   int
		fromHistory int
		fromSplit   int
		zeroCompl   int
	)
	for _, rec := range recs {
		stable := 0
		switch prev, ok := last[rec.conversation]; {
		case rec.hasCached:
			stable = rec.cached
			fromCache++
		case ok && seen[rec.conversation]:
			stable = prev.prompt + prev.completion
			fromHistory++
		default:
			stable = int(float64(rec.prompt) * opts.StableFraction)
			fromSplit++
		}
		stable = min(stable, rec.prompt-1)
		compl := rec.completion
		if compl == 0 {
			compl = 1
			zeroCompl++
		}
		turns = append(turns, Turn{
			Conversation:     rec.conversation,
			StableTokens:     stable,
			SuffixTokens:     rec.prompt - stable,
			CompletionTokens: compl,
		})
		last[rec.conversation] = rec
		seen[rec.conversation] = rec.conversation != ""
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	src := opts.Source
	if src == "" {
		src = "request log (unnamed)"
	}
	notes := []string{
		fmt.Sprintf("%d requests: stable prefix from the logged cached-token count for %d, from the previous turn of the same conversation (prompt + completion) for %d, from the documented split floor(prompt * %g) for %d",
			len(recs), fromCache, fromHistory, opts.StableFraction, fromSplit),
		"lengths only: replay feeds deterministic token IDs at these lengths (no tokenizer); token identity carries no semantic claim",
	}
	if zeroCompl > 0 {
		notes = append(notes, fmt.Sprintf("%d requests logged 0 completion tokens and are replayed with 1 (the first token always comes from the prefill)", zeroCompl))
	}
	w := Workload{
		Version: Version,
		Provenance: Provenance{
			Source:    src,
			Method:    "derived from a recorded request log by fakbench workload derive",
			CreatedAt: now.UTC().Format(time.RFC3339),
			Notes:     notes,
		},
		Turns: turns,
	}
	return w, w.Validate()
}

func parseLine(line []byte) (record, error) {
	var l logLine
	if err := json.Unmarshal(line, &l); err != nil {
		return record{}, fmt.Errorf("not a JSON object: %w", err)
	}
	rec := record{conversation: firstNonEmpty(l.Conversation, l.ConversationID, l.SessionID)}
	switch {
	case l.Usage != nil:
		return fromUsage(rec, *l.Usage, "usage.")
	case l.Timings != nil:
		return fromTimings(rec, *l.Timings, "timings.")
	case l.usage.PromptTokens != nil:
		return fromUsage(rec, l.usage, "")
	case l.timings.PromptN != nil:
		return fromTimings(rec, l.timings, "")
	}
	return record{}, errors.New(`no "usage" object (prompt_tokens, completion_tokens) or "timings" object (prompt_n, predicted_n, cache_n) found`)
}

func fromUsage(rec record, u usage, at string) (record, error) {
	if u.PromptTokens == nil {
		return record{}, fmt.Errorf("%sprompt_tokens is missing", at)
	}
	if u.CompletionTokens == nil {
		return record{}, fmt.Errorf("%scompletion_tokens is missing", at)
	}
	rec.prompt, rec.completion = *u.PromptTokens, *u.CompletionTokens
	if rec.prompt < 1 {
		return record{}, fmt.Errorf("%sprompt_tokens = %d: must be >= 1", at, rec.prompt)
	}
	if rec.completion < 0 {
		return record{}, fmt.Errorf("%scompletion_tokens = %d: must be >= 0", at, rec.completion)
	}
	if d := u.PromptTokensDetails; d != nil && d.CachedTokens != nil {
		c := *d.CachedTokens
		if c < 0 || c > rec.prompt {
			return record{}, fmt.Errorf("%sprompt_tokens_details.cached_tokens = %d: must be in [0, prompt_tokens=%d]", at, c, rec.prompt)
		}
		rec.cached, rec.hasCached = c, true
	}
	return rec, nil
}

func fromTimings(rec record, t timings, at string) (record, error) {
	if t.PromptN == nil {
		return record{}, fmt.Errorf("%sprompt_n is missing", at)
	}
	if t.PredictedN == nil {
		return record{}, fmt.Errorf("%spredicted_n is missing", at)
	}
	cache := 0
	if t.CacheN != nil {
		cache = *t.CacheN
	}
	if *t.PromptN < 0 || cache < 0 || *t.PredictedN < 0 {
		return record{}, fmt.Errorf("%sprompt_n=%d cache_n=%d predicted_n=%d: counts must be >= 0", at, *t.PromptN, cache, *t.PredictedN)
	}
	// llama.cpp evaluates at least one prompt token even on a full cache
	// hit; the prompt is what was evaluated plus what was reused.
	rec.prompt = *t.PromptN + cache
	if rec.prompt < 1 {
		return record{}, fmt.Errorf("%sprompt_n + cache_n = 0: an empty prompt cannot be replayed", at)
	}
	rec.completion = *t.PredictedN
	if t.CacheN != nil {
		rec.cached, rec.hasCached = cache, true
	}
	return rec, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
