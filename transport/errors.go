package transport

import (
	"errors"
	"fmt"
	"strings"
)

// ErrClosed is returned by any call on a closed session or backend.
var ErrClosed = errors.New("transport: session or backend is closed")

// ErrEmptySuffix is returned by PrefillSuffix when the suffix has no tokens.
var ErrEmptySuffix = errors.New("transport: empty suffix: at least one token is needed to predict from")

// ErrNoPending is returned (wrapped with the backend's name, so test it
// with errors.Is) by Session.Decode of a positive count when no token is
// pending: no PrefillSuffix has completed since the session opened or since
// the last EnsurePrefix.
var ErrNoPending = errors.New("Decode: no pending token (call PrefillSuffix first)")

// ErrNoLogits is returned (wrapped with the backend's name, so test it
// with errors.Is) by LogitsReader.LastLogits when the last resident
// position has no logits: nothing evaluated yet, or the cache was trimmed
// behind the last evaluated position.
var ErrNoLogits = errors.New("LastLogits: no logits for the last resident position")

// OverContextError reports a request that does not fit the context window.
// It is returned before any state changes.
type OverContextError struct {
	// Op is the refused call, e.g. "EnsurePrefix".
	Op string
	// Resident is the number of positions kept before the request.
	Resident int
	// Requested is the number of new positions the request needs.
	Requested int
	// Limit is the context size.
	Limit int
}

func (e *OverContextError) Error() string {
	return fmt.Sprintf("%s: over context: %d resident + %d requested = %d positions > context size %d",
		e.Op, e.Resident, e.Requested, e.Resident+e.Requested, e.Limit)
}

// UnavailableError says a backend cannot run on this machine, and why.
type UnavailableError struct {
	Backend string
	Reason  string
	// Tried lists what was looked for (library paths, files) when relevant.
	Tried []string
}

func (e *UnavailableError) Error() string {
	s := fmt.Sprintf("backend %s unavailable: %s", e.Backend, e.Reason)
	if len(e.Tried) > 0 {
		s += " (tried: " + strings.Join(e.Tried, ", ") + ")"
	}
	return s
}

// BadModelError says a model file cannot be used, naming the file and the fault.
type BadModelError struct {
	File   string
	Reason string
	Err    error
}

func (e *BadModelError) Error() string {
	s := fmt.Sprintf("bad model file %s: %s", e.File, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *BadModelError) Unwrap() error { return e.Err }

// IsOverContext reports whether err is or wraps an *OverContextError.
func IsOverContext(err error) bool {
	var e *OverContextError
	return errors.As(err, &e)
}

// IsUnavailable reports whether err is or wraps an *UnavailableError.
func IsUnavailable(err error) bool {
	var e *UnavailableError
	return errors.As(err, &e)
}

// IsBadModel reports whether err is or wraps a *BadModelError.
func IsBadModel(err error) bool {
	var e *BadModelError
	return errors.As(err, &e)
}

// CheckContext returns an *OverContextError when resident+requested positions
// exceed limit. Backends call it before changing any state.
func CheckContext(op string, resident, requested, limit int) error {
	if requested < 0 || resident < 0 || resident+requested > limit {
		return &OverContextError{Op: op, Resident: resident, Requested: requested, Limit: limit}
	}
	return nil
}

// CommonPrefix returns the length of the longest common prefix of a and b.
func CommonPrefix(a, b []Token) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// ValidateTokens checks every token is in [0, vocab) and names the first bad one.
func ValidateTokens(op string, toks []Token, vocab int) error {
	for i, t := range toks {
		if t < 0 || int(t) >= vocab {
			return fmt.Errorf("%s: token %d at index %d is outside the vocabulary [0, %d)", op, t, i, vocab)
		}
	}
	return nil
}
