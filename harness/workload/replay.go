package workload

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/internal/splitmix"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// ReplaySchema names the replay result format.
const ReplaySchema = "fakbench.workload-replay/v1"

// TokenStream returns n deterministic token IDs in [1, vocab) for one
// conversation: position i holds the same ID in every turn, so the turns of
// a conversation share their prompt prefixes as the real ones did, and
// different conversations share nothing. ID 0 is avoided.
func TokenStream(conversation string, n, vocab int) []transport.Token {
	h := fnv.New64a()
	h.Write([]byte(conversation))
	base := h.Sum64()
	out := make([]transport.Token, n)
	span := uint64(max(vocab-1, 1))
	for i := range out {
		out[i] = transport.Token(1 + splitmix.Mix(base^(uint64(i)*splitmix.Gamma))%span)
	}
	return out
}

// ReplayOptions control Replay.
type ReplayOptions struct {
	// Vocab is the model's vocabulary size (token IDs stay below it).
	Vocab int
	// ContextLength is the session's context; a turn that does not fit is
	// refused before anything runs.
	ContextLength int
	// Reps is the number of measured passes over the workload (>= 1).
	Reps int
	// Warmup runs one short untimed turn first (page in weights, spin up
	// threads); it is not part of any sample.
	Warmup bool
}

// TurnResult is one turn's measurements (medians over the passes, with
// every sample kept).
type TurnResult struct {
	Index            int    `json:"index"`
	Conversation     string `json:"conversation,omitempty"`
	StableTokens     int    `json:"stable_tokens"`
	SuffixTokens     int    `json:"suffix_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	// Warm is true when the turn ran on a session that an earlier turn of
	// its conversation had filled.
	Warm bool `json:"warm"`
	// ExpectedMinReused is the reuse the token plan guarantees: the common
	// prefix of this stable prefix and the previous turn's prompt.
	ExpectedMinReused int `json:"expected_min_reused"`
	// ReusedTokens and ComputedTokens are what EnsurePrefix reported (the
	// minimum over passes, so one lucky pass cannot raise it).
	ReusedTokens   int `json:"reused_tokens"`
	ComputedTokens int `json:"computed_tokens"`
	// PrefixMS is EnsurePrefix; SuffixTTFTMS is PrefillSuffix; TTFTMS is
	// their sum, from the start of the request until the first token (each
	// the median over the passes).
	PrefixMS     float64 `json:"prefix_ms"`
	SuffixTTFTMS float64 `json:"suffix_ttft_ms"`
	TTFTMS       float64 `json:"ttft_ms"`
	// PrefillTPS is (computed prefix + suffix tokens) / TTFT.
	PrefillTPS float64 `json:"prefill_tps"`
	// DecodeTPS is (completion-1) generated tokens / Decode time (0 when
	// the completion is the single prefill token).
	DecodeTPS        float64   `json:"decode_tps"`
	DecodedTokens    int       `json:"decoded_tokens"`
	TTFTSamplesMS    []float64 `json:"ttft_samples_ms"`
	PrefixSamplesMS  []float64 `json:"prefix_samples_ms"`
	DecodeSamplesTPS []float64 `json:"decode_samples_tps,omitempty"`
	// InterTokenSamplesMS are the turn's inter-token latencies, one list
	// per pass: each decoded token asked for with its own Decode(1), as a
	// streaming client receives it, its latency the time the call reports.
	InterTokenSamplesMS [][]float64 `json:"inter_token_samples_ms,omitempty"`
}

// Summary aggregates a replay.
type Summary struct {
	Turns int `json:"turns"`
	// TTFTTotalMS sums the turns' median TTFTs: the time-to-first-token a
	// user of this trace waits in total.
	TTFTTotalMS float64 `json:"ttft_total_ms"`
	// TTFTMedianMS is the median of the turns' median TTFTs.
	TTFTMedianMS float64 `json:"ttft_median_ms"`
	// WarmTTFTMedianMS is the same over warm turns only.
	WarmTTFTMedianMS float64 `json:"warm_ttft_median_ms,omitempty"`
	// ReusedTokens over StableTokens is the prefix hit rate of the trace.
	StableTokens int     `json:"stable_tokens"`
	ReusedTokens int     `json:"reused_tokens"`
	HitRate      float64 `json:"hit_rate"`
	// DecodeTPS is all generated tokens over all decode time (medians).
	DecodeTPS float64 `json:"decode_tps"`
	// WallMS is the median wall time of one pass.
	WallMS        float64   `json:"wall_ms"`
	WallSamplesMS []float64 `json:"wall_samples_ms"`
	// InterTokenMS summarizes every turn's inter-token latencies over
	// every pass, and TTFTPercentilesMS every turn's TTFT samples
	// (report.PercentileRule).
	InterTokenMS      *report.Dist `json:"inter_token_ms,omitempty"`
	TTFTPercentilesMS *report.Dist `json:"ttft_percentiles_ms,omitempty"`
}

// ReplayResult is the outcome of Replay. The CLI adds the run's identity
// (backend, model, digests, caps) and writes it as workload-<backend>.json.
type ReplayResult struct {
	Turns   []TurnResult `json:"turns"`
	Summary Summary      `json:"summary"`
	// TokenDigest is the sha256 of every replayed token ID, in order.
	TokenDigest string `json:"token_ids_digest"`
}

// SessionOpener opens a fresh session with an empty cache.
type SessionOpener func(ctx context.Context) (transport.Session, error)

// CheckFits returns an error naming the first turn that does not fit ctxLen
// positions (prompt + completion).
func CheckFits(w Workload, ctxLen int) error {
	for i, t := range w.Turns {
		if need := t.PromptTokens() + t.CompletionTokens; need > ctxLen {
			return fmt.Errorf("turn %d (conversation %q) needs %d positions (stable %d + suffix %d + completion %d) > context %d; cap it with %s or use a model with a longer context",
				i, t.Conversation, need, t.StableTokens, t.SuffixTokens, t.CompletionTokens, ctxLen, env.WorkloadPrefillCap.Name)
		}
	}
	return nil
}

// Replay runs the workload on live sessions: the turns of each conversation
// in order on one session (cold on its first turn, warm after), each turn
// EnsurePrefix(stable) + PrefillSuffix(suffix) + Decode(completion-1).
// Every pass opens fresh sessions.
func Replay(ctx context.Context, open SessionOpener, w Workload, opts ReplayOptions) (ReplayResult, error) {
	if err := w.Validate(); err != nil {
		return ReplayResult{}, err
	}
	if opts.Vocab < 2 {
		return ReplayResult{}, fmt.Errorf("replay: vocabulary size %d: want >= 2", opts.Vocab)
	}
	if opts.Reps < 1 {
		return ReplayResult{}, fmt.Errorf("replay: reps = %d: want >= 1", opts.Reps)
	}
	if opts.ContextLength > 0 {
		if err := CheckFits(w, opts.ContextLength); err != nil {
			return ReplayResult{}, fmt.Errorf("replay: %w", err)
		}
	}
	// One token stream per conversation, long enough for every turn, or
	// the turn's tokenized text.
	prompts, err := promptTokens(w, opts.Vocab)
	if err != nil {
		return ReplayResult{}, fmt.Errorf("replay: %w", err)
	}
	digest := sha256.New()
	for _, p := range prompts {
		for _, tok := range p {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(tok))
			digest.Write(b[:])
		}
	}

	res := ReplayResult{Turns: make([]TurnResult, len(w.Turns)), TokenDigest: "sha256:" + hex.EncodeToString(digest.Sum(nil))}
	prevPrompt := map[string][]transport.Token{}
	started := map[string]bool{}
	for i, t := range w.Turns {
		tr := TurnResult{Index: i, Conversation: t.Conversation, StableTokens: t.StableTokens,
			SuffixTokens: t.SuffixTokens, CompletionTokens: t.CompletionTokens, ReusedTokens: -1, Warm: started[t.Conversation]}
		if tr.Warm {
			// What this stable prefix shares with the previous prompt
			// (for drawn streams: min(stable, previous prompt length)).
			tr.ExpectedMinReused = commonPrefix(prompts[i][:t.StableTokens], prevPrompt[t.Conversation])
		}
		started[t.Conversation] = true
		prevPrompt[t.Conversation] = prompts[i]
		res.Turns[i] = tr
	}

	if opts.Warmup {
		if err := warmup(ctx, open, w.Turns[0], prompts[0]); err != nil {
			return ReplayResult{}, fmt.Errorf("replay warm-up: %w", err)
		}
	}
	decodeMS := make([][]float64, len(w.Turns))
	suffixMS := make([][]float64, len(w.Turns))
	for rep := 0; rep < opts.Reps; rep++ {
		start := time.Now()
		sessions := map[string]transport.Session{}
		err := func() error {
			defer func() {
				for _, s := range sessions {
					s.Close()
				}
			}()
			for i, t := range w.Turns {
				s := sessions[t.Conversation]
				if s == nil {
					var err error
					if s, err = open(ctx); err != nil {
						return fmt.Errorf("opening a session for conversation %q: %w", t.Conversation, err)
					}
					sessions[t.Conversation] = s
				}
				toks := prompts[i]
				pr, err := s.EnsurePrefix(ctx, transport.PrefixInput{Key: prefixKey(t.Conversation, t.StableTokens), Tokens: toks[:t.StableTokens]})
				if err != nil {
					return fmt.Errorf("turn %d EnsurePrefix(%d tokens): %w", i, t.StableTokens, err)
				}
				sr, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks[t.StableTokens:t.PromptTokens()]})
				if err != nil {
					return fmt.Errorf("turn %d PrefillSuffix(%d tokens): %w", i, t.SuffixTokens, err)
				}
				tr := &res.Turns[i]
				if tr.ReusedTokens < 0 || pr.ReusedTokens < tr.ReusedTokens {
					tr.ReusedTokens, tr.ComputedTokens = pr.ReusedTokens, pr.ComputedTokens
				}
				prefixMS := ms(pr.Elapsed)
				ttft := prefixMS + ms(sr.TTFT)
				tr.PrefixSamplesMS = append(tr.PrefixSamplesMS, prefixMS)
				tr.TTFTSamplesMS = append(tr.TTFTSamplesMS, ttft)
				suffixMS[i] = append(suffixMS[i], ms(sr.TTFT))
				if n := t.CompletionTokens - 1; n > 0 {
					itl, elapsed, err := streamDecode(ctx, s, n)
					if err != nil {
						return fmt.Errorf("turn %d: %w", i, err)
					}
					tr.DecodedTokens = n
					tr.DecodeSamplesTPS = append(tr.DecodeSamplesTPS, float64(n)/elapsed.Seconds())
					tr.InterTokenSamplesMS = append(tr.InterTokenSamplesMS, itl)
					decodeMS[i] = append(decodeMS[i], ms(elapsed))
				}
			}
			return nil
		}()
		if err != nil {
			return ReplayResult{}, fmt.Errorf("replay pass %d: %w", rep+1, err)
		}
		res.Summary.WallSamplesMS = append(res.Summary.WallSamplesMS, ms(time.Since(start)))
	}

	var turnTTFT, warmTTFT, allTTFT, allITL []float64
	var decTok int
	var decMS float64
	for i := range res.Turns {
		tr := &res.Turns[i]
		tr.TTFTMS = report.Median(tr.TTFTSamplesMS)
		tr.PrefixMS = report.Median(tr.PrefixSamplesMS)
		tr.SuffixTTFTMS = report.Median(suffixMS[i])
		if tr.TTFTMS > 0 {
			tr.PrefillTPS = float64(tr.ComputedTokens+tr.SuffixTokens) / (tr.TTFTMS / 1000)
		}
		tr.DecodeTPS = report.Median(tr.DecodeSamplesTPS)
		if len(decodeMS[i]) > 0 {
			decTok += tr.DecodedTokens
			decMS += report.Median(decodeMS[i])
		}
		turnTTFT = append(turnTTFT, tr.TTFTMS)
		allTTFT = append(allTTFT, tr.TTFTSamplesMS...)
		allITL = append(allITL, report.Pooled(tr.InterTokenSamplesMS)...)
		if tr.Warm {
			warmTTFT = append(warmTTFT, tr.TTFTMS)
		}
		res.Summary.TTFTTotalMS += tr.TTFTMS
		res.Summary.StableTokens += tr.StableTokens
		res.Summary.ReusedTokens += tr.ReusedTokens
	}
	res.Summary.Turns = len(res.Turns)
	res.Summary.TTFTMedianMS = report.Median(turnTTFT)
	res.Summary.WarmTTFTMedianMS = report.Median(warmTTFT)
	if res.Summary.StableTokens > 0 {
		res.Summary.HitRate = float64(res.Summary.ReusedTokens) / float64(res.Summary.StableTokens)
	}
	if decMS > 0 {
		res.Summary.DecodeTPS = float64(decTok) / (decMS / 1000)
	}
	res.Summary.WallMS = report.Median(res.Summary.WallSamplesMS)
	res.Summary.InterTokenMS = report.NewDist(allITL)
	res.Summary.TTFTPercentilesMS = report.NewDist(allTTFT)
	return res, nil
}

// streamDecode decodes n tokens one Decode(1) call at a time, as a
// streaming client receives them, and returns each token's latency (ms)
// and the whole decode's time. Like the turn's other timings, a token's
// latency is the time its call reports (DecodeResult.Elapsed): from the
// call to the token's return, the harness doing nothing in between.
func streamDecode(ctx context.Context, s transport.Session, n int) ([]float64, time.Duration, error) {
	itl := make([]float64, 0, n)
	var total time.Duration
	for len(itl) < n {
		dr, err := s.Decode(ctx, 1)
		if err != nil {
			return nil, 0, fmt.Errorf("Decode(1) for token %d of %d: %w", len(itl)+1, n, err)
		}
		if len(dr.Tokens) != 1 || dr.Elapsed <= 0 {
			return nil, 0, fmt.Errorf("Decode(1) for token %d of %d returned %d tokens in %v", len(itl)+1, n, len(dr.Tokens), dr.Elapsed)
		}
		itl = append(itl, ms(dr.Elapsed))
		total += dr.Elapsed
	}
	return itl, total, nil
}

func warmup(ctx context.Context, open SessionOpener, t Turn, toks []transport.Token) error {
	s, err := open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	n := min(t.PromptTokens(), 32)
	if _, err := s.EnsurePrefix(ctx, transport.PrefixInput{Key: "warmup", Tokens: toks[:n-1]}); err != nil {
		return err
	}
	if _, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks[n-1 : n]}); err != nil {
		return err
	}
	_, err = s.Decode(ctx, 4)
	return err
}

func prefixKey(conv string, n int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("workload:%s:%d", conv, n)))
	return hex.EncodeToString(sum[:8])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
