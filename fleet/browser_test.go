package fleet

import (
	"encoding/json"
	"fmt"
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
	var colours []string
	for _, c := range palette {
		colours = append(colours, fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B))
	}
	cs, err := json.Marshal(colours)
	require.NoError(t, err)
	js := `(() => {
	  const colours = ` + string(cs) + `;
	  const out = {charts: {}, rows: document.querySelectorAll('#hosts tbody tr').length};
	  for (const f of document.querySelectorAll('figure')) {
	    const svg = f.querySelector('svg');
	    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
	    let n = 0;
	    if (svg && box.width > 100 && box.height > 50) {
	      for (const p of svg.querySelectorAll('path')) {
	        const st = (p.getAttribute('style') || '').toUpperCase();
	        if (colours.some(c => st.includes('FILL:' + c))) n++;
	      }
	    }
	    out.charts[f.id] = n;
	  }
	  return out;
	})()`
	var got struct {
		Charts map[string]int `json:"charts"`
		Rows   int            `json:"rows"`
	}
	tab.Load(t, page, chromedp.Evaluate(js, &got))
	assert.Equal(t, 4, got.Rows)
	require.Len(t, got.Charts, len(charts))
	legends := map[string]int{"decode": 2, "prefill": 2, "ttft": 2, "bandwidth": 1, "kernel": 3}
	for _, c := range charts {
		assert.Positive(t, c.Bars, c.ID)
		assert.Equal(t, c.Bars+legends[c.ID], got.Charts[c.ID], "chart %s: every bar and legend swatch drawn", c.ID)
	}
	errs := tab.Errors()
	assert.Empty(t, errs, "console errors: %s", strings.Join(errs, "; "))
}
