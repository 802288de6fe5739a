package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/contract"
)

// Config sets how Run measures.
type Config struct {
	// Warmup is the number of discarded repetitions before the kept ones:
	// 0 means the default (1), a negative value means none.
	Warmup int
	// Reps is the number of kept repetitions: 0 means the default (5, or 2
	// in short mode).
	Reps int
	// Short marks a smoke run (recorded in the report).
	Short bool
	// Threads is recorded in the report; 0 takes Settings()["threads"].
	Threads int
	// Model is the report's model field; empty takes the backend's model name.
	Model string
	// Mode is the report's mode field; empty means "live_prefix_reuse".
	Mode string
	// Profile is the report's profile field (e.g. a settings profile).
	Profile string
	// CancelAfterTokens is roughly how many decode steps run before the
	// cancel_decode case cancels (default 3).
	CancelAfterTokens int
	// Progress, when set, is called as each step starts and once at the end.
	Progress func(step string, done, total int)
	// Yield, when set, is called before every section and before every
	// repetition (warm-up included), outside any timed span: Interleave
	// passes the function that hands the node to the next backend.
	Yield func()
	// LogitTolerance is the largest absolute logit difference between a
	// warm and a cold run of the same input that still counts as the same
	// computation (adapters.Entry.LogitTolerance; 0: DefaultLogitTolerance).
	LogitTolerance float64
	// GoRuntime records the Go runtime's facts in the report
	// (report.GoRuntime: GC cycles, pauses and heap allocation per phase,
	// and whether the decode's outliers coincide with a GC cycle): set it
	// for a backend that computes on the Go heap, the in-repo kernel.
	GoRuntime bool
	// Base, when set, is the row as its caller knows it before anything
	// runs (bench: row kind and label, model spec and digest, command,
	// threads): the report starts as a copy of it, and the harness fills
	// only what Base leaves empty, so the identity of a row is written in
	// one place. Repetitions and Warmup are always what ran.
	Base *report.Report
}

// DefaultMode is the report mode of a Run.
const DefaultMode = "live_prefix_reuse"

// Steps of a Run, in order, as passed to Config.Progress.
var Steps = []string{
	"cold_full_prefill", "warm_same_prefix", "warm_changed_suffix", "edited_stable_segment",
	"decode", "suffix_ttft_curve", "over_context", "cancel_decode",
}

type runner struct {
	ctx  context.Context
	b    transport.Backend
	sc   Scenario
	cfg  Config
	info transport.ModelInfo
	rep  *report.Report

	warm, reps int
	failed     int
	errored    int

	coldBase []transport.Token // first + CompareSteps tokens of stable+suffix, cold
	// coldBaseTrace is coldBase with its logits (baseTrace).
	coldBaseTrace contract.Trace
	coldPerMS     float64 // cold prefix ms per token
	decodeTPS     float64

	ev evidence // the engine's own cache, against the session's claims (evidence.go)

	mem *report.Memory // resident memory per phase (phases.go); nil when unreadable
	gop *goProbe       // the Go runtime's counters (Config.GoRuntime)
}

// Run measures every scenario of the report contract (docs/methodology.md)
// of sc on b and returns the report.
//
// A backend call that fails in one section is recorded in Notes and leaves
// that section zero-valued; the other sections still run. A failed
// correctness check is recorded in Notes, prefixed "check failed:": one that
// a contract field shows (output_equals_cold, actual_cache_miss, failure_cases)
// sets that field false; one that none shows (a cold session whose cache was
// not empty, a non-positive timing) marks the report failed. The report's
// Status is report.StatusOK unless a section errored or such a check failed
// (report.StatusFailed); report.CorrectnessFailures lists the flags. Run
// returns an error (with a report marked failed) only when the backend is
// unusable, the scenario does not fit it, or ctx ends.
//
// Host, ModelSpec, ModelDigest, BuildFlags and Command are the caller's to fill.
func Run(ctx context.Context, b transport.Backend, sc Scenario, cfg Config) (*report.Report, error) {
	r := &runner{ctx: ctx, b: b, sc: sc, cfg: cfg, info: b.Info()}
	r.warm = cfg.Warmup
	if r.warm == 0 {
		r.warm = 1
	}
	r.warm = max(r.warm, 0)
	r.reps = cfg.Reps
	if r.reps <= 0 {
		r.reps = 5
		if cfg.Short {
			r.reps = 2
		}
	}
	if r.cfg.CancelAfterTokens <= 0 {
		r.cfg.CancelAfterTokens = 3
	}
	r.rep = r.newReport()
	r.startPhases()

	// fail ends the run before section from: it and every later section
	// did not run, and the row is interrupted when the context ended.
	fail := func(from int, err error) (*report.Report, error) {
		r.rep.Status = report.StatusFailed
		why := "not run: the run stopped first: " + err.Error()
		if ctx.Err() != nil {
			r.rep.Status = report.StatusInterrupted
			why = "not run: the run was interrupted first"
		}
		for _, step := range Steps[from:] {
			r.notRun(step, why)
		}
		r.rep.Notes = append(r.rep.Notes, "run aborted: "+err.Error())
		r.finishPhases()
		r.rep.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
		return r.rep, err
	}
	if err := r.checkFit(); err != nil {
		return fail(0, err)
	}
	probe, err := b.NewSession(ctx)
	if err != nil {
		return fail(0, fmt.Errorf("harness: backend %s: cannot open a session: %w", b.Name(), err))
	}
	if err := probe.Close(); err != nil {
		r.note("closing the probe session: %v", err)
	}

	sections := []func() error{
		r.coldFullPrefill, r.onWarm(r.warmSamePrefix), r.onWarm(r.warmChangedSuffix), r.onWarm(r.editedStable),
		r.decode, r.onWarm(r.suffixCurve), r.failureCase(r.overContext), r.failureCase(r.cancelDecode),
	}
	for i, sec := range sections {
		r.yield()
		r.progress(Steps[i], i)
		if err := ctx.Err(); err != nil {
			return fail(i, fmt.Errorf("harness: run interrupted before %s: %w", Steps[i], err))
		}
		if err := sec(); err != nil {
			if ctx.Err() != nil {
				return fail(i, fmt.Errorf("harness: run interrupted in %s: %w", Steps[i], ctx.Err()))
			}
			r.errored++
			r.note("%s: not measured: %v", Steps[i], err)
			r.notRun(Steps[i], "not measured: "+err.Error())
		}
	}
	r.progress("done", len(sections))
	r.checkTimings()
	r.finishPhases()

	r.rep.Status = report.StatusOK
	if r.failed > 0 || r.errored > 0 {
		r.rep.Status = report.StatusFailed
	}
	r.rep.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
	return r.rep, nil
}

func (r *runner) newReport() *report.Report {
	info := r.info
	rep := &report.Report{}
	if r.cfg.Base != nil {
		*rep = *r.cfg.Base
		rep.Notes = append([]string(nil), r.cfg.Base.Notes...)
	}
	// No comparison has run yet: -1 (none), never 0 (diverged at the first token).
	rep.WarmChangedSuffix.FirstDivergence, rep.EditedStable.FirstDivergence = report.NoDivergence, report.NoDivergence
	fill := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	fill(&rep.Model, r.cfg.Model)
	fill(&rep.Model, info.Name)
	fill(&rep.Backend, r.b.Name())
	fill(&rep.Mode, r.cfg.Mode)
	fill(&rep.Mode, DefaultMode)
	fill(&rep.Profile, r.cfg.Profile)
	fill(&rep.BackendVersion, r.b.Version())
	fill(&rep.SchemaVersion, report.SchemaVersion)
	settings := r.b.Settings()
	if rep.Threads == 0 {
		rep.Threads = r.cfg.Threads
	}
	if rep.Threads == 0 {
		if n, err := strconv.Atoi(settings["threads"]); err == nil {
			rep.Threads = n
		}
	}
	// What ran, whatever Base says.
	rep.Repetitions, rep.Warmup = r.reps, r.warm
	rep.Short = rep.Short || r.cfg.Short
	rep.TokenDigest = r.sc.Digest()
	rep.Settings = settings
	rep.StartedAt = time.Now().UTC().Format(time.RFC3339Nano)
	rep.Scenario = r.sc.Shape()
	rep.ModelInfo = &report.ModelInfo{
		Name:          info.Name,
		Architecture:  info.Architecture,
		ContextLength: info.ContextLength,
		VocabSize:     info.VocabSize,
		Parameters:    info.Parameters,
		WeightBytes:   info.WeightBytes,
		WeightType:    info.WeightType,
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf(
		"token IDs drawn from [%d, %d) with seed %d; output_equals_cold compares greedy token IDs: the first token from PrefillSuffix plus %d Decode steps, against a fresh session given the same full input (first_divergence -1: none)",
		r.sc.TokenMin, r.sc.TokenMax, r.sc.Params.Seed, r.sc.CompareSteps))
	rep.Notes = append(rep.Notes, ColdNote)
	return rep
}

// checkFit refuses a scenario that this backend cannot take.
func (r *runner) checkFit() error {
	if need := r.sc.MaxPositions(); need > r.info.ContextLength {
		return fmt.Errorf("harness: scenario needs %d positions but backend %s has a context of %d", need, r.b.Name(), r.info.ContextLength)
	}
	if r.sc.TokenMax > r.info.VocabSize {
		return fmt.Errorf("harness: scenario draws token IDs below %d but backend %s has a vocabulary of %d", r.sc.TokenMax, r.b.Name(), r.info.VocabSize)
	}
	if len(r.sc.Stable) == 0 || len(r.sc.Suffix) == 0 {
		return errors.New("harness: scenario has an empty stable prefix or suffix (build it with BuildScenario)")
	}
	return nil
}

// notRun marks a step's section as not run, with why.
func (r *runner) notRun(step, why string) {
	if r.rep.NotRun == nil {
		r.rep.NotRun = map[string]string{}
	}
	r.rep.NotRun[report.SectionPath(step)] = why
}

func (r *runner) progress(step string, done int) {
	if r.cfg.Progress != nil {
		r.cfg.Progress(step, done, len(Steps))
	}
}

// yield hands the node to the next interleaved run (Config.Yield), after
// quiescing the backend (transport.Quiescer); the first repetition of a
// section follows its section's yield directly.
func (r *runner) yield() {
	if r.cfg.Yield == nil {
		return
	}
	// Park the backend's polling workers first, so they do not take CPU
	// from the row that runs next.
	if q, ok := r.b.(transport.Quiescer); ok {
		q.Quiesce()
	}
	r.cfg.Yield()
}

// repYield yields before every repetition but the first of a loop (the
// section start has just yielded).
func (r *runner) repYield(i int) {
	if i > 0 {
		r.yield()
	}
}

func (r *runner) note(format string, args ...any) {
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf(format, args...))
}

// failCheck records a failed correctness check that no contract field shows
// (the run's status becomes "failed").
func (r *runner) failCheck(format string, args ...any) {
	r.failed++
	r.rep.Notes = append(r.rep.Notes, "check failed: "+fmt.Sprintf(format, args...))
}

// flagCheck records a failed correctness check that a contract flag shows
// (output_equals_cold, actual_cache_miss, failure_cases): the flag is false,
// the note says why, the status is left alone.
func (r *runner) flagCheck(format string, args ...any) {
	r.rep.Notes = append(r.rep.Notes, "check failed: "+fmt.Sprintf(format, args...))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (r *runner) stable() transport.PrefixInput {
	return transport.PrefixInput{Key: r.sc.StableKey(), Tokens: r.sc.Stable}
}

func (r *runner) edited() transport.PrefixInput {
	return transport.PrefixInput{Key: r.sc.EditedKey(), Tokens: r.sc.EditedStable}
}

func suffix(t []transport.Token) transport.SuffixInput { return transport.SuffixInput{Tokens: t} }

// turn makes p resident and prefills s.
func (r *runner) turn(s transport.Session, p transport.PrefixInput, suf []transport.Token) (transport.PrefixResult, transport.SuffixResult, error) {
	pr, err := s.EnsurePrefix(r.ctx, p)
	if err != nil {
		return pr, transport.SuffixResult{}, fmt.Errorf("EnsurePrefix(%d tokens): %w", len(p.Tokens), err)
	}
	sr, err := s.PrefillSuffix(r.ctx, suffix(suf))
	if err != nil {
		return pr, sr, fmt.Errorf("PrefillSuffix(%d tokens): %w", len(suf), err)
	}
	return pr, sr, nil
}

// greedy runs a turn and CompareSteps decode steps, returning the first token
// followed by the decoded ones.
func (r *runner) greedy(s transport.Session, p transport.PrefixInput, suf []transport.Token) ([]transport.Token, error) {
	_, sr, err := r.turn(s, p, suf)
	if err != nil {
		return nil, err
	}
	return r.continueGreedy(s, sr.FirstToken)
}

func (r *runner) continueGreedy(s transport.Session, first transport.Token) ([]transport.Token, error) {
	dec, err := s.Decode(r.ctx, r.sc.CompareSteps)
	if err != nil {
		return nil, fmt.Errorf("Decode(%d): %w", r.sc.CompareSteps, err)
	}
	if len(dec.Tokens) != r.sc.CompareSteps {
		return nil, fmt.Errorf("Decode(%d) returned %d tokens", r.sc.CompareSteps, len(dec.Tokens))
	}
	return append([]transport.Token{first}, dec.Tokens...), nil
}

// coldGreedy runs greedy on a fresh session.
func (r *runner) coldGreedy(p transport.PrefixInput, suf []transport.Token) ([]transport.Token, error) {
	s, err := r.b.NewSession(r.ctx)
	if err != nil {
		return nil, fmt.Errorf("NewSession: %w", err)
	}
	defer r.closeSession(s)
	return r.greedy(s, p, suf)
}

func (r *runner) closeSession(s transport.Session) {
	if err := s.Close(); err != nil {
		r.note("closing a session: %v", err)
	}
}

// onWarm is section run on a fresh session with the stable prefix resident
// and the baseline suffix prefilled; the session is closed after.
func (r *runner) onWarm(section func(s transport.Session) error) func() error {
	return func() error {
		s, err := r.b.NewSession(r.ctx)
		if err != nil {
			return fmt.Errorf("NewSession: %w", err)
		}
		defer r.closeSession(s)
		if _, _, err := r.turn(s, r.stable(), r.sc.Suffix); err != nil {
			return err
		}
		return section(s)
	}
}

// failureCase is a failure case run as onWarm runs a section, given the
// cold output the session must still give afterwards (reference), which
// it makes before it opens the session.
func (r *runner) failureCase(section func(s transport.Session, ref []transport.Token) error) func() error {
	return func() error {
		ref, err := r.reference()
		if err != nil {
			return err
		}
		return r.onWarm(func(s transport.Session) error { return section(s, ref) })()
	}
}

// timings are the kept repetitions' times of a section, in ms: its
// EnsurePrefix, and its time to the first token.
type timings struct{ prefix, ttft []float64 }

// timedTurn makes p resident and prefills the baseline suffix as
// repetition i of section, reading the engine's own cache in between
// (nativePrefix), and keeps the repetition's times in t unless it is a
// warm-up: EnsurePrefix's, and the time to the first token less the time
// that read held the clock.
func (r *runner) timedTurn(section string, s transport.Session, p transport.PrefixInput, i int, t *timings) (transport.PrefixResult, transport.SuffixResult, error) {
	t0 := time.Now()
	pr, err := s.EnsurePrefix(r.ctx, p)
	tPrefix := time.Since(t0)
	if err != nil {
		return pr, transport.SuffixResult{}, fmt.Errorf("EnsurePrefix(%d tokens): %w", len(p.Tokens), err)
	}
	paused := r.nativePrefix(section, s, pr, i)
	sr, err := s.PrefillSuffix(r.ctx, suffix(r.sc.Suffix))
	ttft := time.Since(t0) - paused
	if err != nil {
		return pr, sr, fmt.Errorf("PrefillSuffix(%d tokens): %w", len(r.sc.Suffix), err)
	}
	if i >= r.warm {
		t.prefix = append(t.prefix, ms(tPrefix))
		t.ttft = append(t.ttft, ms(ttft))
	}
	return pr, sr, nil
}

func (r *runner) iterations() int { return r.warm + r.reps }

func (r *runner) coldFullPrefill() error {
	n := len(r.sc.Stable)
	var t timings
	notCold := false
	for i := range r.iterations() {
		r.repYield(i)
		s, err := r.b.NewSession(r.ctx)
		if err != nil {
			return fmt.Errorf("NewSession: %w", err)
		}
		r.nativeFresh("cold_full_prefill", s, i)
		g0 := r.gcSnap(i >= r.warm)
		pr, sr, err := r.timedTurn("cold_full_prefill", s, r.stable(), i, &t)
		if err != nil {
			r.closeSession(s)
			return err
		}
		r.gcPrefill(g0, n+len(r.sc.Suffix))
		if (pr.ComputedTokens != n || pr.ReusedTokens != 0) && !notCold {
			notCold = true
			r.failCheck("cold_full_prefill: a fresh session reused %d and computed %d of %d prefix tokens: its cache was not provably empty",
				pr.ReusedTokens, pr.ComputedTokens, n)
		}
		if r.coldBase == nil {
			toks, err := r.continueGreedy(s, sr.FirstToken)
			if err != nil {
				r.closeSession(s)
				return err
			}
			r.coldBase = toks
		} else if sr.FirstToken != r.coldBase[0] {
			r.note("cold_full_prefill: repetition %d gave first token %d, repetition 0 gave %d (non-deterministic)", i, sr.FirstToken, r.coldBase[0])
		}
		r.closeSession(s)
	}
	med := report.Median(t.prefix)
	r.rep.ColdFullPrefill = report.ColdPrefill{
		Tokens:            n,
		MS:                med,
		TTFTMS:            report.Median(t.ttft),
		SamplesMS:         t.prefix,
		TTFTSamplesMS:     t.ttft,
		Stats:             report.Summarize(t.prefix),
		TTFTPercentilesMS: report.NewDist(t.ttft),
	}
	if med > 0 {
		r.rep.ColdFullPrefill.PromptTPS = float64(n) / (med / 1000)
		r.coldPerMS = med / float64(n)
	}
	r.judgeCold()
	return nil
}

func (r *runner) warmSamePrefix(s transport.Session) error {
	n := len(r.sc.Stable)
	var t timings
	var last, prev transport.PrefixResult
	var first transport.Token
	for i := range r.iterations() {
		r.repYield(i)
		pr, sr, err := r.timedTurn("warm_same_prefix", s, r.stable(), i, &t)
		if err != nil {
			return err
		}
		if i > 0 && (pr.ReusedTokens != prev.ReusedTokens || pr.ComputedTokens != prev.ComputedTokens) {
			r.note("warm_same_prefix: repetition %d reused %d/computed %d, the one before reused %d/computed %d",
				i, pr.ReusedTokens, pr.ComputedTokens, prev.ReusedTokens, prev.ComputedTokens)
		}
		prev = pr
		// Report the worst repetition's reuse.
		if i == 0 || pr.ReusedTokens < last.ReusedTokens {
			last = pr
		}
		first = sr.FirstToken
	}
	if warm, err := r.continueGreedy(s, first); err == nil && r.coldBase != nil {
		if d := contract.Divergence(warm, r.coldBase); d >= 0 {
			r.note("warm_same_prefix: output differs from cold at token %d (warm %v, cold %v)", d, warm, r.coldBase)
		}
	}
	r.rep.WarmSamePrefix = report.WarmSame{
		CachedTokens:  last.ReusedTokens,
		NewTokens:     last.ComputedTokens,
		MS:            report.Median(t.prefix),
		TTFTMS:        report.Median(t.ttft),
		HitRate:       float64(last.ReusedTokens) / float64(n),
		SamplesMS:     t.prefix,
		TTFTSamplesMS: t.ttft,
	}
	r.rep.WarmSamePrefix.TTFTPercentilesMS = report.NewDist(t.ttft)
	if last.ReusedTokens < n {
		r.note("warm_same_prefix: the resident prefix was not fully reused: %d of %d tokens reused, %d recomputed", last.ReusedTokens, n, last.ComputedTokens)
	}
	r.judgeWarmSame()
	return nil
}

func (r *runner) warmChangedSuffix(s transport.Session) error {
	var sufMS, ttftMS []float64
	var pr transport.PrefixResult
	var sr transport.SuffixResult
	var err error
	for i := range r.iterations() {
		r.repYield(i)
		if i > 0 {
			// Put the baseline suffix back so each repetition replaces it.
			if _, err := s.PrefillSuffix(r.ctx, suffix(r.sc.Suffix)); err != nil {
				return fmt.Errorf("PrefillSuffix(%d tokens): %w", len(r.sc.Suffix), err)
			}
		}
		t0 := time.Now()
		pr, err = s.EnsurePrefix(r.ctx, r.stable())
		if err != nil {
			return fmt.Errorf("EnsurePrefix(%d tokens): %w", len(r.sc.Stable), err)
		}
		t1 := time.Now()
		sr, err = s.PrefillSuffix(r.ctx, suffix(r.sc.ChangedSuffix))
		end := time.Now()
		if err != nil {
			return fmt.Errorf("PrefillSuffix(%d tokens): %w", len(r.sc.ChangedSuffix), err)
		}
		if i >= r.warm {
			sufMS = append(sufMS, ms(end.Sub(t1)))
			ttftMS = append(ttftMS, ms(end.Sub(t0)))
		}
	}
	warm, err := r.trace(s, sr.FirstToken)
	if err != nil {
		return err
	}
	checked, err := r.checkWarmChanged(warm)
	if err != nil {
		return err
	}
	if sr.SuffixTokens != len(r.sc.ChangedSuffix) {
		r.note("warm_changed_suffix: the backend reported %d suffix tokens for a suffix of %d", sr.SuffixTokens, len(r.sc.ChangedSuffix))
	}
	r.rep.WarmChangedSuffix = report.WarmChanged{
		CachedTokens:      pr.ReusedTokens,
		SuffixTokens:      sr.SuffixTokens,
		MS:                report.Median(sufMS),
		TTFTMS:            report.Median(ttftMS),
		OutputEqualsCold:  checked.OutputEqualsCold,
		SamplesMS:         sufMS,
		TTFTSamplesMS:     ttftMS,
		TTFTPercentilesMS: report.NewDist(ttftMS),
		FirstDivergence:   checked.FirstDivergence,
		Logits:            checked.Logits,
		Power:             checked.Power,
	}
	return nil
}

func (r *runner) editedStable(s transport.Session) error {
	sec := report.EditedStable{ExpectedCacheMiss: true, EditAt: r.sc.EditAt}
	n := len(r.sc.EditedStable)
	var t timings
	var pr transport.PrefixResult
	var sr transport.SuffixResult
	var err error
	miss := true
	var reason string
	for i := range r.iterations() {
		r.repYield(i)
		if i > 0 {
			// Restore the unedited prefix so each repetition edits a warm cache.
			if _, _, err := r.turn(s, r.stable(), r.sc.Suffix); err != nil {
				return err
			}
		}
		if pr, sr, err = r.timedTurn("edited_stable_segment", s, r.edited(), i, &t); err != nil {
			return fmt.Errorf("on the edited prefix: %w", err)
		}
		ok, why := contract.MissVerdict(pr, r.sc.EditAt, n)
		if !ok && miss {
			miss, reason = false, fmt.Sprintf("repetition %d: %s", i, why)
		}
		if miss {
			reason = why
		}
	}
	sec.ActualCacheMiss = miss
	if miss {
		r.note("edited_stable_segment: %s", reason)
	} else {
		r.flagCheck("edited_stable_segment: no cache miss: %s", reason)
	}
	r.judgeEdited(&sec)
	sec.ReusedTokens, sec.ComputedTokens = pr.ReusedTokens, pr.ComputedTokens
	sec.MS, sec.TTFTMS, sec.SamplesMS = report.Median(t.prefix), report.Median(t.ttft), t.prefix
	sec.TTFTSamplesMS, sec.Stats, sec.TTFTPercentilesMS = t.ttft, report.Summarize(t.prefix), report.NewDist(t.ttft)
	if pr.ComputedTokens > 0 && r.coldPerMS > 0 {
		r.note("edited_stable_segment: recomputed %d tokens in %.3f ms (%.4f ms/token; cold prefill %.4f ms/token)",
			pr.ComputedTokens, sec.MS, sec.MS/float64(pr.ComputedTokens), r.coldPerMS)
	}

	warm, err := r.trace(s, sr.FirstToken)
	if err != nil {
		return err
	}
	checked, err := r.checkEdited(warm)
	if err != nil {
		return err
	}
	sec.OutputEqualsCold, sec.FirstDivergence = checked.OutputEqualsCold, checked.FirstDivergence
	sec.Logits, sec.Power = checked.Logits, checked.Power
	r.rep.EditedStable = sec
	return nil
}

func (r *runner) decode() error {
	r.beforeDecodeSession()
	g0 := r.gcSnap(true)
	s, err := r.b.NewSession(r.ctx)
	if err != nil {
		return fmt.Errorf("NewSession: %w", err)
	}
	r.gcSessionOpen(g0)
	defer r.closeSession(s)
	var tps []float64
	var itl [][]float64
	var ref []transport.Token
	for i := range r.iterations() {
		r.repYield(i)
		if _, _, err := r.turn(s, r.stable(), r.sc.Suffix); err != nil {
			return err
		}
		if i == 0 {
			r.afterDecodePrefill()
		}
		kept := i >= r.warm
		g0 := r.gcSnap(kept)
		toks, at, err := r.decodeTokens(s, r.sc.MaxDecode)
		if err != nil {
			return err
		}
		if ref == nil {
			ref = toks
		} else if d := contract.Divergence(toks, ref); d >= 0 {
			r.note("decode: repetition %d differs from repetition 0 at token %d (non-deterministic decode)", i, d)
		}
		el := at[len(at)-1].Sub(at[0])
		if kept && el > 0 {
			tps = append(tps, float64(len(toks))/el.Seconds())
			gaps := make([]float64, len(toks))
			for k := range gaps {
				gaps[k] = ms(at[k+1].Sub(at[k]))
			}
			itl = append(itl, gaps)
			r.gcDecode(g0, at)
		}
	}
	r.afterDecode(len(r.sc.Stable) + len(r.sc.Suffix) + r.sc.MaxDecode)
	if r.coldBase != nil {
		if d := contract.Divergence(ref[:r.sc.CompareSteps], r.coldBase[1:]); d >= 0 {
			r.note("decode: the decoded tokens differ from the cold reference at step %d", d)
		}
	}
	r.decodeTPS = report.Median(tps)
	r.rep.Decode = report.Decode{
		OutputTokens:        r.sc.MaxDecode,
		TokensPerSec:        r.decodeTPS,
		ContextTokens:       len(r.sc.Stable) + len(r.sc.Suffix),
		SamplesTPS:          tps,
		Stats:               report.Summarize(tps),
		WeightBytesRead:     r.info.WeightBytes,
		InterTokenSamplesMS: itl,
		InterTokenMS:        report.NewDist(report.Pooled(itl)),
	}
	return nil
}

// decodeTokens decodes n tokens one Decode(1) call at a time, as a
// streaming client receives them, and returns them with the time each
// call returned; at[0] is the decode's start, so token i took
// at[i+1]-at[i].
func (r *runner) decodeTokens(s transport.Session, n int) ([]transport.Token, []time.Time, error) {
	toks := make([]transport.Token, 0, n)
	at := make([]time.Time, 1, n+1)
	at[0] = time.Now()
	for len(toks) < n {
		dec, err := s.Decode(r.ctx, 1)
		now := time.Now()
		if err != nil {
			return nil, nil, fmt.Errorf("Decode(1) for token %d of %d: %w", len(toks)+1, n, err)
		}
		if len(dec.Tokens) != 1 {
			return nil, nil, fmt.Errorf("Decode(1) for token %d of %d returned %d tokens", len(toks)+1, n, len(dec.Tokens))
		}
		toks = append(toks, dec.Tokens[0])
		at = append(at, now)
	}
	return toks, at, nil
}

func (r *runner) suffixCurve(s transport.Session) error {
	var curve []report.SuffixTTFT
	for k, size := range r.sc.CurveSizes {
		var samples []float64
		for i := range r.iterations() {
			r.repYield(k + i)
			t0 := time.Now()
			if _, err := s.EnsurePrefix(r.ctx, r.stable()); err != nil {
				return fmt.Errorf("size %d: EnsurePrefix(%d tokens): %w", size, len(r.sc.Stable), err)
			}
			if _, err := s.PrefillSuffix(r.ctx, suffix(r.sc.CurveSuffixes[k])); err != nil {
				return fmt.Errorf("size %d: PrefillSuffix: %w", size, err)
			}
			if i >= r.warm {
				samples = append(samples, ms(time.Since(t0)))
			}
		}
		curve = append(curve, report.SuffixTTFT{SuffixTokens: size, TTFTMS: report.Median(samples), SamplesMS: samples})
	}
	r.rep.SuffixTTFTCurve = curve
	return nil
}

// reference is the cold greedy output of stable+suffix used to check that a
// session still works after a failure case.
func (r *runner) reference() ([]transport.Token, error) {
	if r.coldBase != nil {
		return r.coldBase, nil
	}
	ref, err := r.coldGreedy(r.stable(), r.sc.Suffix)
	if err != nil {
		return nil, fmt.Errorf("cold reference: %w", err)
	}
	r.coldBase = ref
	return ref, nil
}

// stillWorks checks that s answers stable+suffix as a cold session does.
func (r *runner) stillWorks(s transport.Session, ref []transport.Token) (bool, string) {
	pr, err := s.EnsurePrefix(r.ctx, r.stable())
	if err != nil {
		return false, fmt.Sprintf("EnsurePrefix afterwards failed: %v", err)
	}
	sr, err := s.PrefillSuffix(r.ctx, suffix(r.sc.Suffix))
	if err != nil {
		return false, fmt.Sprintf("PrefillSuffix afterwards failed: %v", err)
	}
	got, err := r.continueGreedy(s, sr.FirstToken)
	if err != nil {
		return false, fmt.Sprintf("decoding afterwards failed: %v", err)
	}
	if d := contract.Divergence(got, ref); d >= 0 {
		return false, fmt.Sprintf("the session answers differently afterwards: first divergence at token %d (got %v, want %v)", d, got, ref)
	}
	// The refused or cancelled call must not have thrown the cache away: the
	// prefix is reused as well as in warm_same_prefix.
	if want := r.rep.WarmSamePrefix.CachedTokens; pr.ReusedTokens < want {
		return false, fmt.Sprintf("the session lost its cache: the prefix was reused for %d tokens afterwards, %d in warm_same_prefix", pr.ReusedTokens, want)
	}
	return true, fmt.Sprintf("session still works afterwards (same %d greedy tokens; the prefix was reused for %d of %d tokens)", len(ref), pr.ReusedTokens, len(r.sc.Stable))
}

// overContextCase checks one refused call of a request needing total
// positions, as the conformance kit does (contract.OverContext).
func (r *runner) overContextCase(what string, err error, total int) (bool, string) {
	if err := contract.OverContext(what, err, r.info.ContextLength, total); err != nil {
		return false, err.Error()
	}
	return true, fmt.Sprintf("%s: refused: %v", what, err)
}

func (r *runner) overContext(s transport.Session, ref []transport.Token) error {
	ctxLen := r.info.ContextLength
	fc := &r.rep.FailureCases

	_, err := s.EnsurePrefix(r.ctx, transport.PrefixInput{Key: "overflow", Tokens: r.sc.OverflowTokens(ctxLen + 1)})
	okA, whyA := r.overContextCase(fmt.Sprintf("EnsurePrefix of %d tokens (context %d)", ctxLen+1, ctxLen), err, ctxLen+1)
	over := ctxLen - len(r.sc.Stable) + 1
	_, err = s.PrefillSuffix(r.ctx, suffix(r.sc.OverflowTokens(over)))
	okB, whyB := r.overContextCase(fmt.Sprintf("PrefillSuffix of %d tokens after a %d-token prefix (context %d)", over, len(r.sc.Stable), ctxLen), err, ctxLen+1)
	okC, whyC := r.stillWorks(s, ref)

	fc.Details = append(fc.Details, "over_context: "+whyA, "over_context: "+whyB, "over_context: "+whyC)
	fc.OverContext = okA && okB && okC
	if !fc.OverContext {
		r.flagCheck("failure_cases.over_context: %s; %s; %s", whyA, whyB, whyC)
	}
	return nil
}

func (r *runner) cancelDecode(s transport.Session, ref []transport.Token) error {
	fc := &r.rep.FailureCases
	n := r.info.ContextLength - len(r.sc.Stable) - len(r.sc.Suffix)
	// The uncancelled continuation to compare partial results with.
	t0 := time.Now()
	refDec, err := s.Decode(r.ctx, min(n, 64))
	if err != nil {
		return fmt.Errorf("reference Decode(%d): %w", min(n, 64), err)
	}
	cont := refDec.Tokens
	tokenTime := time.Since(t0) / time.Duration(max(len(cont), 1))
	if r.decodeTPS > 0 {
		tokenTime = time.Duration(float64(time.Second) / r.decodeTPS)
	}
	if _, err := s.PrefillSuffix(r.ctx, suffix(r.sc.Suffix)); err != nil {
		return fmt.Errorf("PrefillSuffix(%d tokens): %w", len(r.sc.Suffix), err)
	}
	// Promptness: the call must return within a few tokens of the cancel.
	slack := max(250*time.Millisecond, 10*tokenTime)
	var details []string
	ok := true
	bad := func(format string, args ...any) {
		ok = false
		details = append(details, fmt.Sprintf(format, args...))
	}

	// 1. Cancel while decoding, after about CancelAfterTokens tokens.
	after := max(time.Duration(r.cfg.CancelAfterTokens)*tokenTime, 500*time.Microsecond)
	cctx, cancel := context.WithCancel(r.ctx)
	var firedAt atomic.Int64
	timer := time.AfterFunc(after, func() {
		firedAt.Store(time.Now().UnixNano())
		cancel()
	})
	t0 = time.Now()
	dec, err := s.Decode(cctx, n)
	end := time.Now()
	timer.Stop()
	cancel()
	switch {
	case err == nil && len(dec.Tokens) == n:
		details = append(details, fmt.Sprintf("cancel_decode: Decode(%d) finished in %.3f ms, before the cancel due at %.3f ms: mid-decode cancel not observable at this speed",
			n, ms(end.Sub(t0)), ms(after)))
	case err == nil:
		bad("cancel_decode: Decode(%d) returned %d tokens and no error", n, len(dec.Tokens))
	default:
		if !errors.Is(err, context.Canceled) {
			bad("cancel_decode: the error does not wrap context.Canceled: %v", err)
		}
		if len(dec.Tokens) >= n {
			bad("cancel_decode: %d tokens returned for %d asked despite the cancel", len(dec.Tokens), n)
		}
		if f := firedAt.Load(); f != 0 {
			if lat := end.Sub(time.Unix(0, f)); lat > slack {
				bad("cancel_decode: returned %.1f ms after the cancel (allowed %.1f ms)", ms(lat), ms(slack))
			} else {
				details = append(details, fmt.Sprintf("cancel_decode: cancelled after %d of %d tokens, returned %.3f ms after the cancel: %v",
					len(dec.Tokens), n, ms(lat), err))
			}
		}
		j := len(dec.Tokens)
		if k := min(j, len(cont)); contract.Divergence(dec.Tokens[:k], cont[:k]) >= 0 {
			bad("cancel_decode: the tokens before the cancel differ from an uncancelled decode")
		}
		// The cache holds exactly the tokens fed so far: decoding on must
		// continue the same sequence.
		if j < len(cont) {
			more := min(len(cont)-j, r.sc.CompareSteps)
			next, err := s.Decode(r.ctx, more)
			switch {
			case err != nil:
				bad("cancel_decode: Decode after the cancel failed: %v", err)
			case contract.Divergence(append(slices.Clone(dec.Tokens), next.Tokens...), cont[:j+more]) >= 0:
				bad("cancel_decode: decoding on after the cancel does not continue the uncancelled sequence")
			default:
				details = append(details, fmt.Sprintf("cancel_decode: decoding on after the cancel continued the sequence correctly (%d more tokens)", more))
			}
		}
	}

	// 2. A context cancelled before the call.
	if _, _, err := r.turn(s, r.stable(), r.sc.Suffix); err != nil {
		bad("cancel_decode: re-prefill before the pre-cancelled decode failed: %v", err)
	} else {
		pctx, pcancel := context.WithCancel(r.ctx)
		pcancel()
		t0 := time.Now()
		dec, err := s.Decode(pctx, n)
		el := time.Since(t0)
		switch {
		case err == nil:
			bad("cancel_decode: Decode with a cancelled context returned %d tokens and no error", len(dec.Tokens))
		case !errors.Is(err, context.Canceled):
			bad("cancel_decode: Decode with a cancelled context: the error does not wrap context.Canceled: %v", err)
		case len(dec.Tokens) >= n:
			bad("cancel_decode: Decode with a cancelled context returned all %d tokens", n)
		case el > slack:
			bad("cancel_decode: Decode with a cancelled context took %.1f ms", ms(el))
		default:
			details = append(details, fmt.Sprintf("cancel_decode: a pre-cancelled Decode(%d) returned in %.3f ms with %d tokens: %v", n, ms(el), len(dec.Tokens), err))
		}
	}

	// 3. The session still answers correctly.
	okU, whyU := r.stillWorks(s, ref)
	details = append(details, "cancel_decode: "+whyU)
	if !okU {
		ok = false
	}
	fc.Details = append(fc.Details, details...)
	fc.CancelDecode = ok
	if !ok {
		r.flagCheck("failure_cases.cancel_decode: see failure_cases.details")
	}
	return nil
}

// checkTimings fails the run when a measured section carries a non-positive
// timing or rate.
func (r *runner) checkTimings() {
	rep := r.rep
	check := func(name string, ran bool, v float64) {
		if ran && !(v > 0) {
			r.failCheck("%s is %v, not a positive timing", name, v)
		}
	}
	cold := rep.ColdFullPrefill.Tokens > 0
	check("cold_full_prefill.ms", cold, rep.ColdFullPrefill.MS)
	check("cold_full_prefill.ttft_ms", cold, rep.ColdFullPrefill.TTFTMS)
	check("cold_full_prefill.prompt_tps", cold, rep.ColdFullPrefill.PromptTPS)
	same := rep.WarmSamePrefix.SamplesMS != nil
	check("warm_same_prefix.ms", same, rep.WarmSamePrefix.MS)
	check("warm_same_prefix.ttft_ms", same, rep.WarmSamePrefix.TTFTMS)
	changed := rep.WarmChangedSuffix.SamplesMS != nil
	check("warm_changed_suffix.ms", changed, rep.WarmChangedSuffix.MS)
	check("warm_changed_suffix.ttft_ms", changed, rep.WarmChangedSuffix.TTFTMS)
	check("decode.tokens_per_sec", rep.Decode.OutputTokens > 0, rep.Decode.TokensPerSec)
	for _, p := range rep.SuffixTTFTCurve {
		check(fmt.Sprintf("suffix_ttft_curve[%d].ttft_ms", p.SuffixTokens), true, p.TTFTMS)
	}
}
