// Package contract holds the verdicts on a backend's behaviour that the
// session contract defines: whether a warm output equals the cold one,
// whether a refused request was refused as the contract says, whether an
// edited prefix missed the cache. The conformance kit
// (adapters/conformance) and the benchmark harness (harness) both judge
// with these functions, so a backend the kit passes cannot be flagged by
// the harness for the same behaviour, nor the other way round.
package contract

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fakbench/fakbench/transport"
)

// Divergence returns the index of the first position where a and b differ
// (the shorter length when one is a prefix of the other), or -1 when they
// are equal.
func Divergence(a, b []transport.Token) int {
	n := transport.CommonPrefix(a, b)
	if n == len(a) && n == len(b) {
		return -1
	}
	return n
}

// SameAsCold returns nil when the greedy tokens got equal want, the cold
// session's, and otherwise an error naming what was compared and the
// first divergence.
func SameAsCold(what string, got, want []transport.Token) error {
	if d := Divergence(got, want); d >= 0 {
		return fmt.Errorf("%s: greedy tokens differ from a cold session at index %d (got %v, want %v)", what, d, got, want)
	}
	return nil
}

// OverContext returns nil when err is how the contract refuses a request
// that needs total positions of a context of limit: a
// *transport.OverContextError that transport.IsOverContext recognises,
// with the backend's limit, resident + requested equal to what the request
// needs, an operation named and a message that says "context". what names
// the request in the error.
func OverContext(what string, err error, limit, total int) error {
	if err == nil {
		return fmt.Errorf("%s: accepted, want an over-context error", what)
	}
	var oe *transport.OverContextError
	if !errors.As(err, &oe) {
		return fmt.Errorf("%s: error is not a *transport.OverContextError (IsOverContext false): %v", what, err)
	}
	if !transport.IsOverContext(err) {
		return fmt.Errorf("%s: transport.IsOverContext is false for %v", what, err)
	}
	if oe.Limit != limit {
		return fmt.Errorf("%s: error says the limit is %d, the backend's context is %d", what, oe.Limit, limit)
	}
	if oe.Resident+oe.Requested != total {
		return fmt.Errorf("%s: error says %d resident + %d requested, the request needs %d positions", what, oe.Resident, oe.Requested, total)
	}
	if oe.Op == "" || !strings.Contains(err.Error(), "context") {
		return fmt.Errorf("%s: error names no operation or does not say what is wrong: %q", what, err.Error())
	}
	return nil
}

// MissVerdict judges from a PrefixResult whether EnsurePrefix of an n-token
// prefix edited at index editAt (on a session holding the unedited prefix)
// measurably missed the cache from the edit point on. It returns the verdict
// and the reason: reusing past the edit, or computing fewer tokens than
// follow it, is no miss; a full recompute or partial reuse before the edit
// is a miss, said as such.
func MissVerdict(pr transport.PrefixResult, editAt, n int) (bool, string) {
	switch {
	case pr.ReusedTokens > editAt:
		return false, fmt.Sprintf("reused %d tokens, past the edit at index %d: stale cache entries were kept", pr.ReusedTokens, editAt)
	case pr.ComputedTokens < n-editAt:
		return false, fmt.Sprintf("computed %d tokens, fewer than the %d from the edit at index %d on", pr.ComputedTokens, n-editAt, editAt)
	case pr.ReusedTokens+pr.ComputedTokens != n:
		return true, fmt.Sprintf("miss, but the accounting is off: reused %d + computed %d != %d prefix tokens", pr.ReusedTokens, pr.ComputedTokens, n)
	case pr.ReusedTokens == editAt:
		return true, fmt.Sprintf("precise miss: reused the %d tokens before the edit, recomputed %d from it", pr.ReusedTokens, pr.ComputedTokens)
	case pr.ReusedTokens == 0:
		return true, fmt.Sprintf("miss by full recompute: reused nothing (the %d tokens before the edit could have been kept), computed %d", editAt, pr.ComputedTokens)
	default:
		return true, fmt.Sprintf("miss with partial reuse: reused %d of the %d tokens before the edit, computed %d", pr.ReusedTokens, editAt, pr.ComputedTokens)
	}
}
