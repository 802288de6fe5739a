//go:build !race

package conformance_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder stands in for a test: it records a skip or a failure instead of
// ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

// An unavailable native backend skips its conformance test, unless its
// FAK_REQUIRE_* variable is 1: then the test fails, naming the variable
// and why the backend is unavailable.
func TestNativeUnavailableSkipsOrFails(t *testing.T) {
	cause := errors.New("the engine is not compiled in")
	for _, name := range []string{"llamacpp", "openvino", "openvino-gguf"} {
		t.Run(name, func(t *testing.T) {
			v := requireVar[name]
			if !assert.NotNil(t, v, "no FAK_REQUIRE_* variable for %s", name) {
				return
			}
			for _, c := range []struct{ value, skip, fail string }{
				{"", "unavailable here: the engine is not compiled in", ""},
				{"0", "unavailable here: the engine is not compiled in", ""},
				{"1", "", v.Name + "=1 but " + name + " is unavailable here: the engine is not compiled in"},
				{"yes", "", v.Name + `="yes"`},
			} {
				t.Setenv(v.Name, c.value)
				r := &recorder{TB: t}
				unavailable(r, name, cause)
				if c.skip == "" {
					assert.Empty(t, r.skipped, "%s=%q", v.Name, c.value)
				} else {
					assert.Contains(t, r.skipped, c.skip, "%s=%q", v.Name, c.value)
				}
				if c.fail == "" {
					assert.Empty(t, r.failed, "%s=%q", v.Name, c.value)
				} else {
					assert.Contains(t, r.failed, c.fail, "%s=%q", v.Name, c.value)
				}
			}
		})
	}
	r := &recorder{TB: t}
	unavailable(r, "nosuch", cause)
	assert.Contains(t, r.failed, "no FAK_REQUIRE_* variable is declared for backend nosuch")
}
