package browsertest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/env"
)

// FAK_CHROMIUM is tried before the browsers on PATH.
func TestFindPrefersTheNamedBrowser(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	t.Setenv(env.Chromium.Name, exe)
	assert.Equal(t, exe, Find(t))
}

// A page's console errors, failed assertions and uncaught exceptions are
// collected; its ordinary logs are not. Load runs the actions after the
// page is ready.
func TestTabCollectsThePageErrors(t *testing.T) {
	tab := Open(t, Find(t))
	page := filepath.Join(t.TempDir(), "page.html")
	require.NoError(t, os.WriteFile(page, []byte(`<!doctype html><html><body><p id="p">hi</p><script>
console.log("fine");
console.error("broken", 1);
console.assert(false, "assertion");
</script><script>throw new Error("thrown");</script></body></html>`), 0o644))
	var text string
	tab.Load(t, page, chromedp.Text("#p", &text))
	assert.Equal(t, "hi", text)
	errs := tab.Errors()
	require.Len(t, errs, 3, "%q", errs)
	assert.Equal(t, `console: "broken" 1`, errs[0])
	assert.Contains(t, errs[1], `console: "assertion"`)
	assert.Contains(t, errs[2], "exception: Uncaught")
}
