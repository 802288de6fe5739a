package html

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/browsertest"
	"github.com/fakbench/fakbench/internal/env"
)

// pageCheck is what the browser saw.
type pageCheck struct {
	Figures      int            `json:"figures"`
	ChartsDrawn  map[string]int `json:"charts"` // figure id -> drawn SVG shapes
	ConsoleErrs  []string
	Screenshot   []byte
	NonWhiteFrac float64
}

// checkInBrowser opens path in headless Chromium, counts every chart's
// drawn shapes, collects console errors and exceptions and takes a
// full-page screenshot.
func checkInBrowser(t *testing.T, browser, path string) pageCheck {
	t.Helper()
	tab := browsertest.Open(t, browser)
	var figs browsertest.Figures
	var shot []byte
	tab.Load(t, path,
		browsertest.CountShapes(palette, "", &figs),
		chromedp.FullScreenshot(&shot, 100), // quality 100 = PNG
	)
	pc := pageCheck{Figures: figs.Count, ChartsDrawn: figs.Shapes, Screenshot: shot, ConsoleErrs: tab.Errors()}
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err, "screenshot is not a PNG")
	pc.NonWhiteFrac = nonWhite(img)
	return pc
}

func nonWhite(img image.Image) float64 {
	b := img.Bounds()
	var n, total int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			total++
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				n++
			}
		}
	}
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}

// TestReportRendersInChromium renders a report with every chart in a real
// browser: every figure must hold a drawn SVG, the page must log no errors
// and the screenshot must not be blank. FAK_SCREENSHOT_DIR keeps the PNG.
func TestReportRendersInChromium(t *testing.T) {
	browser := browsertest.Find(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	require.NoError(t, WriteFile(page, Page{Title: "fakbench fixture report", Command: "go test", Runs: []Run{fixtureRun()}}))

	pc := checkInBrowser(t, browser, page)
	assert.Empty(t, pc.ConsoleErrs, "the page logged errors")
	assert.Equal(t, 7, pc.Figures)
	for id, shapes := range pc.ChartsDrawn {
		// Every fixture chart has at least two rows with two points each.
		assert.GreaterOrEqual(t, shapes, 4, "chart %s drew %d data shapes", id, shapes)
	}
	// The inter-token latency CDF: a line and the p50/p90/p99 marks per
	// row; memory per phase: six bars per row.
	assert.GreaterOrEqual(t, pc.ChartsDrawn["chart-itl-cdf"], 2*(1+3), "the inter-token latency chart")
	assert.GreaterOrEqual(t, pc.ChartsDrawn["chart-memory"], 2*6, "the memory chart")
	assert.Greater(t, pc.NonWhiteFrac, 0.02, "screenshot looks blank")
	if d := env.ScreenshotDir.Value(); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "report-fixture.png"), pc.Screenshot, 0o644))
	}
}

// TestGivenReportRendersInChromium checks a real report (for example
// out/bench/report.html after make bench) when FAK_REPORT_HTML names it.
func TestGivenReportRendersInChromium(t *testing.T) {
	path := env.ReportHTML.Value()
	if path == "" {
		t.Skip("set FAK_REPORT_HTML=path/to/report.html to check a real report")
	}
	browser := browsertest.Find(t)
	abs, err := filepath.Abs(path)
	require.NoError(t, err)
	pc := checkInBrowser(t, browser, abs)
	assert.Empty(t, pc.ConsoleErrs, "the page logged errors")
	drawn := 0
	for id, shapes := range pc.ChartsDrawn {
		if shapes > 0 {
			drawn++
		}
		t.Logf("chart %s: %d data shapes", id, shapes)
	}
	assert.Positive(t, drawn, "no chart drew data")
	assert.Greater(t, pc.NonWhiteFrac, 0.02, "screenshot looks blank")
	out := strings.TrimSuffix(abs, ".html") + ".png"
	require.NoError(t, os.WriteFile(out, pc.Screenshot, 0o644))
	t.Logf("screenshot: %s", out)
}
