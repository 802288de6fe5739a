package fake

import (
	"context"

	"github.com/fakbench/fakbench/transport"
)

// WrapSessions returns b with every session it opens passed through wrap:
// how a test makes a working backend misbehave in one way, keeping the
// rest of it.
func WrapSessions(b transport.Backend, wrap func(transport.Session) transport.Session) transport.Backend {
	return &wrapped{Backend: b, wrap: wrap}
}

type wrapped struct {
	transport.Backend
	wrap func(transport.Session) transport.Session
}

func (w *wrapped) NewSession(ctx context.Context) (transport.Session, error) {
	s, err := w.Backend.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	return w.wrap(s), nil
}
