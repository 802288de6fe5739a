package harness

import (
	"fmt"

	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/contract"
)

// DefaultLogitTolerance is the warm-against-cold logit tolerance of a
// backend whose registry entry states none: a difference of 1e-3 on logits
// of order 10 is float32 rounding of a computation done in another order,
// far below what a wrong or shifted position does to them.
const DefaultLogitTolerance = 1e-3

func (r *runner) tolerance() float64 {
	if r.cfg.LogitTolerance > 0 {
		return r.cfg.LogitTolerance
	}
	return DefaultLogitTolerance
}

// trace continues a session greedily from first for CompareSteps tokens,
// one Decode(1) at a time, keeping the logits every token was chosen from
// when the session exposes them (transport.LogitsReader); otherwise it
// decodes them in one call, tokens only. Nothing here is timed.
func (r *runner) trace(s transport.Session, first transport.Token) (contract.Trace, error) {
	lr, ok := s.(transport.LogitsReader)
	var l0 []float32
	if ok {
		var err error
		if l0, err = lr.LastLogits(); err != nil {
			ok = false
		}
	}
	if !ok {
		toks, err := r.continueGreedy(s, first)
		return contract.Trace{Tokens: toks}, err
	}
	t := contract.Trace{Tokens: []transport.Token{first}, Logits: [][]float32{l0}}
	for range r.sc.CompareSteps {
		dec, err := s.Decode(r.ctx, 1)
		if err != nil {
			return t, fmt.Errorf("Decode(1): %w", err)
		}
		if len(dec.Tokens) != 1 {
			return t, fmt.Errorf("Decode(1) returned %d tokens", len(dec.Tokens))
		}
		l, err := lr.LastLogits()
		if err != nil {
			return t, fmt.Errorf("LastLogits after Decode(1): %w", err)
		}
		t.Tokens = append(t.Tokens, dec.Tokens[0])
		t.Logits = append(t.Logits, l)
	}
	return t, nil
}

// coldTrace runs p and suf on a fresh session and traces its greedy output.
func (r *runner) coldTrace(p transport.PrefixInput, suf []transport.Token) (contract.Trace, error) {
	s, err := r.b.NewSession(r.ctx)
	if err != nil {
		return contract.Trace{}, fmt.Errorf("NewSession: %w", err)
	}
	defer r.closeSession(s)
	_, sr, err := r.turn(s, p, suf)
	if err != nil {
		return contract.Trace{}, err
	}
	return r.trace(s, sr.FirstToken)
}

// equalsCold judges a warm trace against the cold one: the same tokens
// and, where both expose logits, logits within the backend's tolerance. It
// records the verdict's reasons and returns the verdict, the first
// divergence and the logit comparison.
func (r *runner) equalsCold(section string, warm, cold contract.Trace) (bool, int, *report.LogitCheck) {
	div := contract.Divergence(warm.Tokens, cold.Tokens)
	d := contract.Measure(warm, cold)
	lc := &report.LogitCheck{Compared: d.Compared, MaxAbsDiff: d.MaxAbs, MinCosine: d.MinCosine, Tolerance: r.tolerance(),
		PerStepMaxAbsDiff: d.PerStepMaxAbs, PerStepCosine: d.PerStepCosine}
	switch {
	case div >= 0:
		r.flagCheck("%s: output differs from a cold session: first divergence at token %d (warm %v, cold %v)", section, div, warm.Tokens, cold.Tokens)
		return false, div, lc
	case d.Compared && !d.Within(r.tolerance()):
		r.flagCheck("%s: the same %d greedy tokens as a cold session, but the logits differ beyond the tolerance %.3g: %s", section, len(cold.Tokens), r.tolerance(), d)
		return false, -1, lc
	}
	r.note("%s: output equals cold on all %d greedy tokens", section, len(cold.Tokens))
	r.note("%s: logits: %s (tolerance %.3g)", section, d, r.tolerance())
	return true, -1, lc
}

// power compares the two cold runs that must differ for a section's
// output_equals_cold to have power: the section's cold reference and a run
// of what a broken warm path would compute instead. It returns the check.
func (r *runner) power(section, comparison string, ref, wrong contract.Trace) *report.PowerCheck {
	div := contract.Divergence(ref.Tokens, wrong.Tokens)
	d := contract.Measure(ref, wrong)
	pc := &report.PowerCheck{Comparison: comparison, FirstDivergence: div, MaxAbsDiff: d.MaxAbs, MinCosine: d.MinCosine}
	if d.Compared {
		pc.Margin = d.MaxAbs / r.tolerance()
	} else {
		pc.MinCosine = 0
	}
	pc.Discriminating = div >= 0 || (d.Compared && !d.Within(r.tolerance()))
	if pc.Discriminating {
		r.note("%s: power check: %s differ (%s; first token divergence %d), %.3g tolerances apart", section, comparison, d, div, pc.Margin)
	} else {
		r.flagCheck("%s: output_equals_cold is not discriminating: %s give the same tokens and logits within the tolerance %.3g (%s), so the check could not tell a broken warm path from a right one",
			section, comparison, r.tolerance(), d)
	}
	return pc
}

// baseTrace is the cold trace of stable + baseline suffix (computed once).
func (r *runner) baseTrace() (contract.Trace, error) {
	if r.coldBaseTrace.Tokens != nil {
		return r.coldBaseTrace, nil
	}
	t, err := r.coldTrace(r.stable(), r.sc.Suffix)
	if err != nil {
		return t, fmt.Errorf("cold reference: %w", err)
	}
	r.coldBaseTrace = t
	return t, nil
}

// shortPrefix is the stable prefix less its last token: what a backend
// that dropped the last prefix token, or kept a stale one in its place,
// would attend to.
func (r *runner) shortPrefix() transport.PrefixInput {
	p := r.stable()
	p.Tokens = p.Tokens[:len(p.Tokens)-1]
	p.Key += "-short"
	return p
}

// checkWarmChanged judges warm_changed_suffix's warm trace against cold,
// with its power check.
func (r *runner) checkWarmChanged(warm contract.Trace) (*report.WarmChanged, error) {
	cold, err := r.coldTrace(r.stable(), r.sc.ChangedSuffix)
	if err != nil {
		return nil, fmt.Errorf("cold reference: %w", err)
	}
	wrong, err := r.coldTrace(r.shortPrefix(), r.sc.ChangedSuffix)
	if err != nil {
		return nil, fmt.Errorf("power reference: %w", err)
	}
	sec := &report.WarmChanged{}
	sec.OutputEqualsCold, sec.FirstDivergence, sec.Logits = r.equalsCold("warm_changed_suffix", warm, cold)
	sec.Power = r.power("warm_changed_suffix", "cold on the stable prefix and cold on it one token short (a dropped or stale last prefix token)", cold, wrong)
	sec.OutputEqualsCold = sec.OutputEqualsCold && sec.Power.Discriminating
	return sec, nil
}

// checkEdited judges edited_stable_segment's warm trace against cold,
// with its power check.
func (r *runner) checkEdited(warm contract.Trace) (*report.EditedStable, error) {
	cold, err := r.coldTrace(r.edited(), r.sc.Suffix)
	if err != nil {
		return nil, fmt.Errorf("cold reference: %w", err)
	}
	base, err := r.baseTrace()
	if err != nil {
		return nil, err
	}
	sec := &report.EditedStable{}
	sec.OutputEqualsCold, sec.FirstDivergence, sec.Logits = r.equalsCold("edited_stable_segment", warm, cold)
	sec.Power = r.power("edited_stable_segment", fmt.Sprintf("cold on the edited prefix and cold on the unedited one (the edit at index %d kept stale)", r.sc.EditAt), cold, base)
	sec.OutputEqualsCold = sec.OutputEqualsCold && sec.Power.Discriminating
	return sec, nil
}
