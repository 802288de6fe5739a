package contract

import (
	"errors"
	"fmt"

	"github.com/fakbench/fakbench/transport"
)

// NativeHolds returns nil when st, the engine's own cache read after a call
// (transport.CacheInspector), holds exactly the positions 0..claimed-1 that
// the session's bookkeeping says are resident, and otherwise an error that
// says how the engine contradicts it: evicted leading positions, stale
// positions kept past the claim, or claimed positions that are not there.
// what names the state checked.
func NativeHolds(what string, st transport.CacheState, claimed int) error {
	var errs []error
	if st.Positions > 0 && st.First > 0 {
		errs = append(errs, fmt.Errorf("%s: the engine's cache starts at position %d: positions 0..%d that the session counts as resident are gone", what, st.First, st.First-1))
	}
	switch end := st.End(); {
	case end > claimed:
		errs = append(errs, fmt.Errorf("%s: the engine's cache holds positions up to %d, the session claims %d resident: %d stale positions past the claim were kept", what, end-1, claimed, end-claimed))
	case end < claimed:
		errs = append(errs, fmt.Errorf("%s: the engine's cache holds %d positions, the session claims %d resident: %d claimed positions are not in the engine's cache", what, end, claimed, claimed-end))
	}
	return errors.Join(errs...)
}

// NativePrefix returns nil when the engine's own cache, read right after
// EnsurePrefix returned pr, agrees with pr: it holds exactly reused +
// computed positions, and when the call began computing it held exactly
// the reused ones (st.Kept, where the engine could be read then): a
// position past them still held at that point is a stale entry (after an
// edit, the positions from the edit on) that the recompute did not drop.
func NativePrefix(what string, st transport.CacheState, pr transport.PrefixResult) error {
	errs := []error{NativeHolds(what, st, pr.ReusedTokens+pr.ComputedTokens)}
	switch {
	case st.Kept < 0:
	case st.Kept > pr.ReusedTokens:
		errs = append(errs, fmt.Errorf("%s: when EnsurePrefix began computing, the engine's cache still held %d positions, past the %d reused: %d stale positions were not dropped before the recompute", what, st.Kept, pr.ReusedTokens, st.Kept-pr.ReusedTokens))
	case st.Kept < pr.ReusedTokens:
		errs = append(errs, fmt.Errorf("%s: when EnsurePrefix began computing, the engine's cache held %d positions, fewer than the %d the session reports reused", what, st.Kept, pr.ReusedTokens))
	}
	return errors.Join(errs...)
}
