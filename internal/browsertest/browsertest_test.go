package browsertest

import (
	"image/color"
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

// CountShapes counts a figure's paths in the colours asked for (fills and
// strokes, or fills only with the prefix), none in another colour and none
// in an SVG too small to be laid out as a chart.
func TestCountShapes(t *testing.T) {
	tab := Open(t, Find(t))
	page := filepath.Join(t.TempDir(), "figures.html")
	require.NoError(t, os.WriteFile(page, []byte(`<!doctype html><html><body>
<figure id="a"><svg width="300" height="200">
<path style="fill:#1f77b4" d="M0 0h10v10z"/><path style="stroke:#FF7F0E;fill:none" d="M0 0L50 50"/>
<path style="fill:#777777" d="M0 0h5v5z"/><path d="M0 0h5v5z"/></svg></figure>
<figure id="b"><svg width="50" height="20"><path style="fill:#1f77b4" d="M0 0h10v10z"/></svg></figure>
<figure id="c"><p>no chart</p></figure>
</body></html>`), 0o644))
	colours := []color.RGBA{{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}}
	var all, fills Figures
	tab.Load(t, page, CountShapes(colours, "", &all), CountShapes(colours, "fill:", &fills))
	assert.Equal(t, Figures{Count: 3, Shapes: map[string]int{"a": 2, "b": 0, "c": 0}}, all)
	assert.Equal(t, Figures{Count: 3, Shapes: map[string]int{"a": 1, "b": 0, "c": 0}}, fills)
	assert.Empty(t, tab.Errors())
}
