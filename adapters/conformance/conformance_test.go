package conformance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/transport"
)

func openFake(cfg fake.Config) func(t *testing.T) transport.Backend {
	return func(t *testing.T) transport.Backend {
		b := fake.New(cfg)
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
}

// The reference fake meets the whole contract.
func TestKitOnCorrectFake(t *testing.T) {
	conformance.Run(t, openFake(fake.Config{TokenCost: 20 * time.Microsecond}), conformance.Options{})
}

// A small context and vocabulary still get a plan that fits.
func TestKitOnSmallFake(t *testing.T) {
	conformance.Run(t, openFake(fake.Config{Vocab: 40, Context: 32}), conformance.Options{DecodeSteps: 4})
}

func check(t *testing.T, name string) conformance.Check {
	t.Helper()
	for _, c := range conformance.Checks() {
		if c.Name == name {
			return c
		}
	}
	require.Failf(t, "no such check", "%s", name)
	return conformance.Check{}
}

// Each contract violation is caught by the check that covers it.
func TestChecksDetectBugs(t *testing.T) {
	cases := []struct {
		bug   string
		bugs  fake.Bugs
		check string
		want  string
	}{
		{"no reuse", fake.Bugs{NoReuse: true}, "PrefixHit", "same prefix again: reused 0 and computed 32 tokens, want reused 32 and computed 0"},
		{"no reuse", fake.Bugs{NoReuse: true}, "EditMiss", "prefix edited at index 16: reused 0"},
		{"false hit", fake.Bugs{FalseHit: true}, "EditMiss", "reused 32 and computed 0 tokens, want reused 16 and computed 16"},
		{"false hit", fake.Bugs{FalseHit: true}, "WarmEqualsCold", "edited prefix: greedy tokens differ from a cold session"},
		{"warm diverges", fake.Bugs{WarmDiverges: true}, "WarmEqualsCold", "same prefix, same suffix again: greedy tokens differ from a cold session at index 0"},
		{"ignore cancel", fake.Bugs{IgnoreCancel: true}, "Cancel", "with a context cancelled returned"},
		{"cancel loses token", fake.Bugs{CancelLosesToken: true}, "Cancel", "does not continue the uncancelled sequence"},
		{"untyped over context", fake.Bugs{UntypedOverContext: true}, "OverContext", "is not a *transport.OverContextError"},
		{"over context clears", fake.Bugs{OverContextClears: true}, "UsableAfterOverContext", "the refused request changed the cache"},
		{"close not idempotent", fake.Bugs{CloseNotIdempotent: true}, "CloseIdempotent", "second Close"},
		{"close not idempotent", fake.Bugs{CloseNotIdempotent: true}, "CloseIdempotent", "Decode after Close: got fake: session is gone, want transport.ErrClosed"},
		{"accept empty suffix", fake.Bugs{AcceptEmptySuffix: true}, "EmptySuffix", "want transport.ErrEmptySuffix"},
		{"no vocab check", fake.Bugs{NoVocabCheck: true}, "OutOfVocab", "EnsurePrefix with token 512 (vocabulary 512) was accepted"},
		{"shared cache", fake.Bugs{SharedCache: true}, "TwoSessions", "sessions share a cache"},
		{"stale kv", fake.Bugs{StaleKV: true}, "NativeCache", "same prefix after a suffix and decoding: the engine's cache holds positions up to 43, the session claims 32 resident: 12 stale positions past the claim were kept"},
		{"stale kv", fake.Bugs{StaleKV: true}, "NativeCache", "prefix edited at index 16: when EnsurePrefix began computing, the engine's cache still held 44 positions, past the 16 reused: 28 stale positions were not dropped before the recompute"},
	}
	for _, c := range cases {
		t.Run(c.bug+"/"+c.check, func(t *testing.T) {
			b := fake.New(fake.Config{Bugs: c.bugs})
			defer b.Close()
			err := check(t, c.check).Run(context.Background(), b, conformance.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)

			// The same check passes without the bug.
			ok := fake.New(fake.Config{})
			defer ok.Close()
			assert.NoError(t, check(t, c.check).Run(context.Background(), ok, conformance.Options{}))
		})
	}
}

// A backend that recomputes the prefix it reports reused passes the native
// check: its engine does hold what it claims. Only the time gives it away
// (the harness's timing check, harness tests).
func TestNativeCacheCannotSeeHiddenRecompute(t *testing.T) {
	b := fake.New(fake.Config{Bugs: fake.Bugs{HiddenRecompute: true}})
	defer b.Close()
	assert.NoError(t, check(t, "NativeCache").Run(context.Background(), b, conformance.Options{}))
}

// A session that cannot show its engine's cache passes the native check
// with nothing checked.
func TestNativeCacheWithoutInspector(t *testing.T) {
	b := blind{fake.New(fake.Config{Bugs: fake.Bugs{StaleKV: true}})}
	defer b.Close()
	assert.NoError(t, check(t, "NativeCache").Run(context.Background(), b, conformance.Options{}))
}

// blind wraps a fake whose sessions hide their native view.
type blind struct{ *fake.Backend }

func (b blind) NewSession(ctx context.Context) (transport.Session, error) {
	s, err := b.Backend.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	return struct{ transport.Session }{s}, nil
}

// closeless wraps a fake whose Close does nothing.
type closeless struct{ *fake.Backend }

func (closeless) Close() error { return nil }

func TestBackendCloseDetected(t *testing.T) {
	err := check(t, "BackendClose").Run(context.Background(), closeless{fake.New(fake.Config{})}, conformance.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "NewSession after Backend.Close: got <nil>, want transport.ErrClosed")
}

// panicky wraps a fake whose sessions panic on out-of-vocabulary IDs.
type panicky struct{ *fake.Backend }

func (p panicky) NewSession(ctx context.Context) (transport.Session, error) {
	s, err := p.Backend.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	return panickySession{s, p.Info().VocabSize}, nil
}

type panickySession struct {
	transport.Session
	vocab int
}

func (s panickySession) EnsurePrefix(ctx context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	table := make([]int, s.vocab)
	for _, t := range in.Tokens {
		_ = table[t] // index out of range for a bad ID
	}
	return s.Session.EnsurePrefix(ctx, in)
}

func TestPanicIsReportedNotFatal(t *testing.T) {
	b := panicky{fake.New(fake.Config{})}
	err := check(t, "OutOfVocab").Run(context.Background(), b, conformance.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "EnsurePrefix panicked")
}

func TestChecksRefuseUnplannableBackend(t *testing.T) {
	b := fake.New(fake.Config{Context: 8})
	defer b.Close()
	for _, c := range conformance.Checks() {
		err := c.Run(context.Background(), b, conformance.Options{})
		require.Error(t, err, c.Name)
		assert.Contains(t, err.Error(), "cannot plan inputs for backend fake (context 8", c.Name)
	}
}

func TestChecksAreDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range conformance.Checks() {
		assert.NotEmpty(t, c.Doc, c.Name)
		assert.NotNil(t, c.Run, c.Name)
		assert.False(t, seen[c.Name], "duplicate %s", c.Name)
		seen[c.Name] = true
	}
	assert.Equal(t, "BackendClose", conformance.Checks()[len(conformance.Checks())-1].Name, "the check that closes the backend runs last")
}

// The fake reports a Decode with nothing pending as the contract's
// transport.ErrNoPending, wrapped with its name.
func TestFakeDecodeWithoutPending(t *testing.T) {
	b := openFake(fake.Config{})(t)
	s, err := b.NewSession(context.Background())
	require.NoError(t, err)
	defer func() { _ = s.Close() }()
	_, err = s.Decode(context.Background(), 1)
	assert.ErrorIs(t, err, transport.ErrNoPending)
	assert.EqualError(t, err, "fake: Decode: no pending token (call PrefillSuffix first)")
}

// afterlife wraps a fake session that takes calls after Close: its Close
// closes nothing when keep is set, and its LastLogits always answers.
type afterlife struct {
	transport.Session
	keep bool
}

func (a afterlife) Close() error {
	if a.keep {
		return nil
	}
	return a.Session.Close()
}

func (afterlife) LastLogits() ([]float32, error) { return []float32{0}, nil }

// errorLog is a testing.T that keeps what AssertClosed reports.
type errorLog struct{ msgs []string }

func (l *errorLog) Errorf(format string, args ...any) {
	l.msgs = append(l.msgs, fmt.Sprintf(format, args...))
}

// AssertClosed (CheckClosed) passes a closed session and fails one that
// takes calls after Close, naming each call; the kit's CloseIdempotent
// check flags the same sessions.
func TestAssertClosed(t *testing.T) {
	ctx := context.Background()
	b := openFake(fake.Config{})(t)
	s, err := b.NewSession(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.True(t, conformance.AssertClosed(t, s))

	cases := []struct {
		name string
		bugs fake.Bugs
		wrap func(transport.Session) transport.Session
		want []string
	}{
		{"accepts every call", fake.Bugs{}, func(s transport.Session) transport.Session { return afterlife{s, true} },
			[]string{"EnsurePrefix after Close: got <nil>, want transport.ErrClosed",
				"PrefillSuffix after Close: got <nil>, want transport.ErrClosed",
				"Decode after Close: got <nil>, want transport.ErrClosed",
				"LastLogits after Close: got <nil>, want transport.ErrClosed"}},
		{"logits after close", fake.Bugs{}, func(s transport.Session) transport.Session { return afterlife{s, false} },
			[]string{"LastLogits after Close: got <nil>, want transport.ErrClosed"}},
		{"untyped error", fake.Bugs{CloseNotIdempotent: true}, func(s transport.Session) transport.Session { return s },
			[]string{"EnsurePrefix after Close: got fake: session is gone, want transport.ErrClosed",
				"PrefillSuffix after Close: got fake: session is gone, want transport.ErrClosed",
				"Decode after Close: got fake: session is gone, want transport.ErrClosed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := fake.New(fake.Config{Bugs: c.bugs})
			defer bad.Close()
			s, err := bad.NewSession(ctx)
			require.NoError(t, err)
			s = c.wrap(s)
			require.NoError(t, s.Close())
			var r errorLog
			assert.False(t, conformance.AssertClosed(&r, s))
			require.Len(t, r.msgs, 1)
			for _, w := range c.want {
				assert.Contains(t, r.msgs[0], w)
			}
			assert.Equal(t, len(c.want), strings.Count(r.msgs[0], "after Close: got"), "only the calls that misbehave")

			wrapped := wrapSessions{bad, c.wrap}
			err = check(t, "CloseIdempotent").Run(ctx, wrapped, conformance.Options{})
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// wrapSessions is a fake whose sessions are wrapped by wrap.
type wrapSessions struct {
	*fake.Backend
	wrap func(transport.Session) transport.Session
}

func (w wrapSessions) NewSession(ctx context.Context) (transport.Session, error) {
	s, err := w.Backend.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	return w.wrap(s), nil
}
