package adapters_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/transport"
)

// The registry is process-wide: every entry here has a name no backend uses.

func TestRegisterLookupOpen(t *testing.T) {
	var got adapters.Options
	adapters.Register(adapters.Entry{
		Name:        "zz-test-fake",
		Description: "the reference fake",
		Caps:        adapters.Caps{Logits: false, Batch: false},
		Open: func(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
			got = opts
			return fake.New(fake.Config{}), nil
		},
	})
	assert.Contains(t, adapters.Names(), "zz-test-fake")
	assert.True(t, slices.IsSorted(adapters.Names()))

	e, err := adapters.Lookup("zz-test-fake")
	require.NoError(t, err)
	assert.Equal(t, "the reference fake", e.Description)

	opts := adapters.Options{ModelPath: "m.gguf", Threads: 3, ContextLength: 128, Profile: "tuned", Extra: map[string]string{"k": "v"}}
	b, err := adapters.Open(context.Background(), "zz-test-fake", opts)
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "fake", b.Name())
	assert.Equal(t, opts, got, "Open passes the options through")
}

func TestLookupUnknownListsKnown(t *testing.T) {
	adapters.Register(adapters.Entry{Name: "zz-test-known", Open: func(context.Context, adapters.Options) (transport.Backend, error) {
		return nil, errors.New("not used")
	}})
	_, err := adapters.Lookup("no-such-backend")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown backend "no-such-backend"`)
	assert.Contains(t, err.Error(), "zz-test-known")

	_, err = adapters.Open(context.Background(), "no-such-backend", adapters.Options{})
	assert.Error(t, err)
}

func TestOpenChecksAvailability(t *testing.T) {
	opened := false
	adapters.Register(adapters.Entry{
		Name: "zz-test-missing",
		Caps: adapters.Caps{Native: true},
		Open: func(context.Context, adapters.Options) (transport.Backend, error) {
			opened = true
			return nil, errors.New("must not be called")
		},
		Available: func() error {
			return &transport.UnavailableError{Backend: "zz-test-missing", Reason: "library not found", Tried: []string{"/opt/x"}}
		},
	})
	_, err := adapters.Open(context.Background(), "zz-test-missing", adapters.Options{})
	require.Error(t, err)
	assert.True(t, transport.IsUnavailable(err))
	assert.Contains(t, err.Error(), "library not found (tried: /opt/x)")
	assert.False(t, opened, "an unavailable backend is not opened")
}

func TestRegisterRejectsBadEntries(t *testing.T) {
	open := func(context.Context, adapters.Options) (transport.Backend, error) { return nil, nil }
	assert.Panics(t, func() { adapters.Register(adapters.Entry{Open: open}) }, "empty name")
	assert.Panics(t, func() { adapters.Register(adapters.Entry{Name: "zz-test-noopen"}) }, "no Open")
	adapters.Register(adapters.Entry{Name: "zz-test-dup", Open: open})
	assert.Panics(t, func() { adapters.Register(adapters.Entry{Name: "zz-test-dup", Open: open}) }, "duplicate")
}
