package transport

import "errors"

// CacheState is what an engine's own KV cache holds for a session's
// sequence, read from the engine (llama.cpp's memory, the kernel's KV
// cache, the rows OpenVINO's outputs filled), never from the session's
// token bookkeeping. The harness compares it with what the session claims
// (PrefixResult: reused + computed tokens), so a backend whose bookkeeping
// and engine disagree is caught.
type CacheState struct {
	// Positions is how many positions the cache holds for the sequence.
	Positions int
	// First is the lowest position held, -1 when the cache holds none. The
	// positions held are First .. First+Positions-1: an engine that evicted
	// the oldest positions (a sliding window) has First > 0.
	First int
	// Kept is the End of what the cache held when the last EnsurePrefix
	// began computing, after it dropped what it did not keep: the stale
	// positions past an edit must be gone by then, so Kept must equal the
	// tokens that call reused. -1 before any EnsurePrefix, or where the
	// engine could not be read at that point.
	Kept int
	// Source says, in words, where the figures come from (the engine call
	// or counter read) and what they can and cannot show.
	Source string
}

// End is the position after the last one held (First+Positions, 0 when
// the cache holds none).
func (c CacheState) End() int {
	if c.Positions <= 0 {
		return 0
	}
	return max(c.First, 0) + c.Positions
}

// CacheInspector is implemented by sessions that can show their engine's
// native cache state, the evidence behind the reuse they report.
type CacheInspector interface {
	// NativeCache reads the engine's cache for the session's sequence. It
	// returns an error wrapping ErrNoNativeCache when the engine cannot
	// tell, ErrClosed after Close. It is called between calls only.
	NativeCache() (CacheState, error)
}

// ErrNoNativeCache is returned (wrapped, with the reason) by
// CacheInspector.NativeCache when the engine cannot report its own cache
// state: the reuse the session reports then rests on its bookkeeping alone.
var ErrNoNativeCache = errors.New("the engine cannot report its native cache state")
