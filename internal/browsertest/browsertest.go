// Package browsertest opens pages in a headless Chromium for tests: it
// finds the browser (or skips the test, or fails it when
// FAK_REQUIRE_BROWSER=1, as CI sets), starts it on a throwaway profile,
// loads a file and collects what the page logged as errors. The report.html
// tests of report/html and fleet use it.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/env"
)

// Timeout bounds everything a tab runs.
const Timeout = 90 * time.Second

// Find returns a headless-capable browser on PATH, FAK_CHROMIUM first,
// then chromium, chromium-browser and google-chrome. Without one it skips
// the test, or fails it when FAK_REQUIRE_BROWSER=1.
func Find(t testing.TB) string {
	t.Helper()
	for _, name := range []string{env.Chromium.Value(), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	env.RequireBrowser.SkipIfMissing(t, errors.New("no chromium on PATH (make setup installs Debian's chromium where it can)"))
	return ""
}

// Tab is one headless browser tab and what its pages logged as errors.
type Tab struct {
	// Ctx runs chromedp actions in the tab; it ends after Timeout.
	Ctx context.Context

	mu   sync.Mutex
	errs []string
}

// Open starts the browser at path headless, in a 1200x900 window, on a
// fresh profile, with no network chatter of its own. The browser is closed
// and its profile removed when the test ends.
func Open(t testing.TB, browser string) *Tab {
	t.Helper()
	// Chromium's helper processes may still be writing to the profile for a
	// moment after the browser is closed, so the profile is removed with a
	// few retries rather than by t.TempDir's strict cleanup.
	profile, err := os.MkdirTemp("", "fakbench-chromium-*")
	require.NoError(t, err)
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove the browser profile %s", profile)
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, Timeout)
	t.Cleanup(cancelT)

	tab := &Tab{Ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		tab.mu.Lock()
		defer tab.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value))
				}
				tab.errs = append(tab.errs, "console: "+strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			tab.errs = append(tab.errs, "exception: "+e.ExceptionDetails.Text)
		}
	})
	return tab
}

// Load opens the file at path in the tab, waits for its body and runs
// then (evaluations, a screenshot); a failure fails the test.
func (b *Tab) Load(t testing.TB, path string, then ...chromedp.Action) {
	t.Helper()
	abs, err := filepath.Abs(path)
	require.NoError(t, err)
	actions := append([]chromedp.Action{chromedp.Navigate("file://" + abs), chromedp.WaitReady("body")}, then...)
	require.NoError(t, chromedp.Run(b.Ctx, actions...), "rendering %s", abs)
}

// Figures is what a page's <figure> elements hold.
type Figures struct {
	// Count is the number of figures.
	Count int `json:"count"`
	// Shapes maps each figure's id to the SVG paths its chart draws in
	// one of the colours asked for (CountShapes).
	Shapes map[string]int `json:"shapes"`
}

// CountShapes is an action that counts, in each <figure> of the page, the
// SVG paths whose style holds one of colours right after prefix (""
// counts a fill or a stroke in that colour, "FILL:" fills only). Colours
// are matched as "#RRGGBB" in upper case, as gonum's SVG backend writes
// them; a figure whose SVG is not laid out (100x50 or smaller) counts 0.
func CountShapes(colours []color.RGBA, prefix string, out *Figures) chromedp.Action {
	wanted := make([]string, len(colours))
	for i, c := range colours {
		// A Go-quoted ASCII string is a JavaScript string literal.
		wanted[i] = fmt.Sprintf("%q", strings.ToUpper(prefix)+fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B))
	}
	return chromedp.Evaluate(`(() => {
	  const wanted = [`+strings.Join(wanted, ", ")+`];
	  const out = {count: 0, shapes: {}};
	  for (const f of document.querySelectorAll('figure')) {
	    out.count++;
	    const svg = f.querySelector('svg');
	    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
	    let n = 0;
	    if (svg && box.width > 100 && box.height > 50) {
	      for (const p of svg.querySelectorAll('path')) {
	        const st = (p.getAttribute('style') || '').toUpperCase();
	        if (wanted.some(w => st.includes(w))) n++;
	      }
	    }
	    out.shapes[f.id] = n;
	  }
	  return out;
	})()`, out)
}

// Errors lists what the pages logged so far: console errors and failed
// console assertions ("console: ...") and uncaught exceptions
// ("exception: ...").
func (b *Tab) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}
