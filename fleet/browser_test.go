package fleet

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/browsertest"
)

// report.html in a real browser: every chart drawn with every bar and
// legend swatch, the hosts table complete, no script error.
func TestReportHTMLInBrowser(t *testing.T) {
	bin := browsertest.Find(t)
	slow := named(fast, "z3-slow")
	slow.kernel[1] = 60
	out := collected(t, named(fast, "z3-a"), named(fast, "z3-b"), slow, named(xeon, "spr-a"))
	f, err := BuildReport(out, ReportOptions{CleanNode: true})
	require.NoError(t, err)
	_, page, err := f.Write()
	require.NoError(t, err)
	charts, err := f.Charts()
	require.NoError(t, err)

	tab := browsertest.Open(t, bin)
	var figs browsertest.Figures
	var rows int
	tab.Load(t, page, browsertest.CountShapes(palette, "fill:", &figs),
		chromedp.Evaluate(`document.querySelectorAll('#hosts tbody tr').length`, &rows))
	assert.Equal(t, 4, rows)
	require.Len(t, figs.Shapes, len(charts))
	legends := map[string]int{"decode": 2, "prefill": 2, "ttft": 2, "bandwidth": 1, "kernel": 3}
	for _, c := range charts {
		assert.Positive(t, c.Bars, c.ID)
		assert.Equal(t, c.Bars+legends[c.ID], figs.Shapes[c.ID], "chart %s: every bar and legend swatch drawn", c.ID)
	}
	errs := tab.Errors()
	assert.Empty(t, errs, "console errors: %s", strings.Join(errs, "; "))
}
