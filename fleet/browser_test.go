package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/env"
)

// browser returns a headless-capable Chromium, or skips the test (fails it
// when FAK_REQUIRE_BROWSER=1, as CI sets).
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{env.Chromium.Value(), "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); name != "" && err == nil {
			return p
		}
	}
	must, err := env.RequireBrowser.Bool()
	require.NoError(t, err)
	if must {
		t.Fatalf("%s=1 but no chromium found on PATH (make setup installs Debian's chromium)", env.RequireBrowser.Name)
	}
	t.Skip("no chromium on PATH; make setup installs it where it can")
	return ""
}

// report.html in a real browser: every chart drawn with every bar and
// legend swatch, the hosts table complete, no script error.
func TestReportHTMLInBrowser(t *testing.T) {
	bin := browser(t)
	slow := named(fast, "z3-slow")
	slow.kernel[1] = 60
	out := collected(t, named(fast, "z3-a"), named(fast, "z3-b"), slow, named(xeon, "spr-a"))
	f, err := BuildReport(out, ReportOptions{CleanNode: true})
	require.NoError(t, err)
	_, page, err := f.Write()
	require.NoError(t, err)
	charts, err := f.Charts()
	require.NoError(t, err)

	profile, err := os.MkdirTemp("", "fakbench-chromium-*")
	require.NoError(t, err)
	defer func() {
		// Chromium's helpers may still write to the profile for a moment.
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1200, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()
	var mu sync.Mutex
	var errs []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				errs = append(errs, fmt.Sprint(e.Args))
			}
		case *runtime.EventExceptionThrown:
			errs = append(errs, e.ExceptionDetails.Text)
		}
	})
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
	abs, err := filepath.Abs(page)
	require.NoError(t, err)
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate("file://"+abs), chromedp.WaitReady("body"), chromedp.Evaluate(js, &got)))
	assert.Equal(t, 4, got.Rows)
	require.Len(t, got.Charts, len(charts))
	legends := map[string]int{"decode": 2, "prefill": 2, "ttft": 2, "bandwidth": 1, "kernel": 3}
	for _, c := range charts {
		assert.Positive(t, c.Bars, c.ID)
		assert.Equal(t, c.Bars+legends[c.ID], got.Charts[c.ID], "chart %s: every bar and legend swatch drawn", c.ID)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, errs, "console errors: %s", strings.Join(errs, "; "))
}
