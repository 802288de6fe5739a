package html

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/fakbench/fakbench/report"
)

// Chart is one rendered figure: an inline SVG document and what it shows.
type Chart struct {
	ID      string
	Title   string
	Caption string
	SVG     string
	// Points is the number of data points drawn (0 means the chart was not
	// drawn and Caption says why).
	Points int
}

// palette gives every backend row a stable, distinguishable colour.
var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
	{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
}

func colorFor(i int) color.Color { return palette[i%len(palette)] }

// rowName is how a report is labelled in charts and tables.
func rowName(r *report.Report) string {
	if r.RowLabel != "" {
		return r.RowLabel
	}
	if r.Profile != "" && r.Profile != "tuned" && r.Profile != "default" {
		return r.Backend + " (" + r.Profile + ")"
	}
	return r.Backend
}

func newPlot(x, y string) *plot.Plot {
	// The page shows the title above the figure, so the plot has none.
	p := plot.New()
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// svgOf renders p as an SVG document string without embedded fonts (the
// page's CSS names the font families, so the file stays small).
func svgOf(p *plot.Plot, w, h vg.Length) (string, error) {
	c := vgsvg.NewWith(vgsvg.UseWH(w, h), vgsvg.EmbedFonts(false))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	s := buf.String()
	// Drop the XML prolog so the SVG can be inlined in HTML.
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return s, nil
}

// render draws p as ch's figure or, when nothing was drawn (ch.Points is
// 0), leaves ch without one and puts why in its caption: empty.
func (ch Chart) render(p *plot.Plot, empty string) (Chart, error) {
	if ch.Points == 0 {
		ch.Caption = empty
		return ch, nil
	}
	var err error
	ch.SVG, err = svgOf(p, 7*vg.Inch, 4*vg.Inch)
	return ch, err
}

// addLine draws row i's points as a line with a mark at each point, in the
// row's colour, and names it in the legend.
func addLine(p *plot.Plot, i int, r *report.Report, pts plotter.XYs) (*plotter.Line, error) {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, err
	}
	l.Color, s.Color = colorFor(i), colorFor(i)
	p.Add(l, s)
	p.Legend.Add(rowName(r), l, s)
	return l, nil
}

// suffixCurveChart draws TTFT against suffix length, one line per row.
func suffixCurveChart(rows []*report.Report) (Chart, error) {
	ch := Chart{ID: "suffix-ttft", Title: "Warm TTFT as the changed suffix grows",
		Caption: "Time to first token with the stable prefix resident, by suffix length (median of the repetitions). Lower is better."}
	p := newPlot("suffix tokens", "TTFT (ms)")
	for i, r := range rows {
		if len(r.SuffixTTFTCurve) == 0 {
			continue
		}
		pts := make(plotter.XYs, 0, len(r.SuffixTTFTCurve))
		for _, pt := range r.SuffixTTFTCurve {
			pts = append(pts, plotter.XY{X: float64(pt.SuffixTokens), Y: pt.TTFTMS})
		}
		sort.Slice(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		l, err := addLine(p, i, r, pts)
		if err != nil {
			return ch, fmt.Errorf("suffix curve of %s: %w", rowName(r), err)
		}
		l.Width = vg.Points(1.5)
		ch.Points += len(pts)
	}
	p.Y.Min = 0
	p.Y.Max *= 1.2
	return ch.render(p, "No backend in this run measured the suffix curve.")
}

// groupedBars draws one group of bars per category, one bar per row.
func groupedBars(id, title, caption, ylabel string, cats []string, rows []*report.Report, val func(*report.Report, int) float64) (Chart, error) {
	ch := Chart{ID: id, Title: title, Caption: caption}
	p := newPlot("", ylabel)
	n := len(rows)
	if n == 0 {
		ch.Caption = "No rows."
		return ch, nil
	}
	// Bars of one category share 70% of the category's width (the plot's
	// inner width is about 440pt for a 7-inch figure).
	w := vg.Points(math.Min(40, 440/float64(len(cats))*0.7/float64(n)))
	for i, r := range rows {
		vals := make(plotter.Values, len(cats))
		for c := range cats {
			v := val(r, c)
			if v > 0 {
				ch.Points++
			}
			vals[c] = v
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return ch, fmt.Errorf("%s bars of %s: %w", id, rowName(r), err)
		}
		b.Color = colorFor(i)
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(i)-float64(n-1)/2) * w
		p.Add(b)
		p.Legend.Add(rowName(r), b)
	}
	p.NominalX(cats...)
	// Room for the outer bars and for the legend above the tallest bar.
	p.X.Min, p.X.Max = -0.6, float64(len(cats))-0.4
	p.Y.Min = 0
	p.Y.Max *= 1.2
	return ch.render(p, "No data: "+caption)
}

func ttftChart(rows []*report.Report) (Chart, error) {
	cats := []string{"cold full", "warm same prefix", "warm changed suffix", "edited segment"}
	return groupedBars("ttft", "Cold vs warm time to first token",
		"TTFT per scenario and backend (median). A working prefix cache makes the warm bars much lower than cold; the edited-segment bar must not be (it is a real miss from the edit point). Lower is better.",
		"TTFT (ms)", cats, rows, func(r *report.Report, c int) float64 {
			switch c {
			case 0:
				return r.ColdFullPrefill.TTFTMS
			case 1:
				return r.WarmSamePrefix.TTFTMS
			case 2:
				return r.WarmChangedSuffix.TTFTMS
			default:
				return r.EditedStable.TTFTMS
			}
		})
}

// decodeChart draws decode tok/s per row, with each row's roofline as a
// second bar where it is known.
func decodeChart(rows []*report.Report) (Chart, error) {
	return groupedBars("decode", "Decode throughput against the memory roofline",
		"Decode tokens/s (median) per backend, and the roofline: measured memory bandwidth divided by the weight bytes read per token. Higher is better.",
		"tokens/s", []string{"decode", "roofline"}, rows, func(r *report.Report, c int) float64 {
			if c == 0 {
				return r.Decode.TokensPerSec
			}
			return r.Decode.RooflineTPS
		})
}

// batchChart draws aggregate decode tok/s against the number of sequences.
func batchChart(rows []*report.Report) (Chart, error) {
	ch := Chart{ID: "batch", Title: "Batched decode: aggregate tokens/s by concurrent sequences",
		Caption: "Aggregate decode throughput with B sequences decoded together (each step shares one read of the weights). Higher is better."}
	p := newPlot("sequences (B, log2 scale)", "tokens/s")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	for i, r := range rows {
		if len(r.BatchCurve) == 0 {
			continue
		}
		pts := make(plotter.XYs, 0, len(r.BatchCurve))
		for _, b := range r.BatchCurve {
			if b.Batch > 0 && b.TokensPerSec > 0 {
				pts = append(pts, plotter.XY{X: float64(b.Batch), Y: b.TokensPerSec})
			}
		}
		if len(pts) == 0 {
			continue
		}
		if _, err := addLine(p, i, r, pts); err != nil {
			return ch, fmt.Errorf("batch curve of %s: %w", rowName(r), err)
		}
		ch.Points += len(pts)
	}
	return ch.render(p, "No backend in this run measured a batch curve (run `fakbench batch` or the node bench).")
}

// spread is min/median/max of a sample set.
type spread struct{ min, med, max float64 }

func spreadOf(samples []float64, median float64) (spread, bool) {
	if len(samples) == 0 {
		return spread{}, false
	}
	s := spread{min: samples[0], max: samples[0], med: median}
	for _, v := range samples {
		s.min = math.Min(s.min, v)
		s.max = math.Max(s.max, v)
	}
	if s.med == 0 {
		c := append([]float64(nil), samples...)
		sort.Float64s(c)
		s.med = c[len(c)/2]
	}
	return s, true
}

type errPoints struct {
	xys  plotter.XYs
	errs plotter.YErrors
}

func (e errPoints) Len() int                        { return len(e.xys) }
func (e errPoints) XY(i int) (float64, float64)     { return e.xys[i].X, e.xys[i].Y }
func (e errPoints) YError(i int) (float64, float64) { return e.errs[i].Low, e.errs[i].High }

// spreadChart shows min/median/max over the repetitions for the two numbers
// people quote most, cold prefill time and decode throughput, each as a
// percentage of its own median so both share one axis.
func spreadChart(rows []*report.Report) (Chart, error) {
	ch := Chart{ID: "spread", Title: "Repetition spread (min / median / max, % of median)",
		Caption: "Each point is the median (100%); the bars span the fastest and slowest repetition. Wide bars mean a noisy node: compare medians with care."}
	cats := []string{"cold prefill time", "decode tok/s"}
	p := newPlot("", "% of median")
	n := len(rows)
	for i, r := range rows {
		var ep errPoints
		for c := range cats {
			var sp spread
			var ok bool
			if c == 0 {
				sp, ok = spreadOf(r.ColdFullPrefill.SamplesMS, r.ColdFullPrefill.MS)
			} else {
				sp, ok = spreadOf(r.Decode.SamplesTPS, r.Decode.TokensPerSec)
			}
			if !ok || sp.med <= 0 {
				continue
			}
			x := float64(c) + (float64(i)-float64(n-1)/2)*0.12
			ep.xys = append(ep.xys, plotter.XY{X: x, Y: 100})
			ep.errs = append(ep.errs, struct{ Low, High float64 }{100 * (sp.med - sp.min) / sp.med, 100 * (sp.max - sp.med) / sp.med})
		}
		if len(ep.xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(ep.xys)
		if err != nil {
			return ch, err
		}
		s.Color = colorFor(i)
		s.Shape = draw.CircleGlyph{}
		eb, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return ch, err
		}
		eb.Color = colorFor(i)
		eb.Width = vg.Points(1.5)
		p.Add(eb, s)
		p.Legend.Add(rowName(r), s)
		ch.Points += len(ep.xys)
	}
	p.NominalX(cats...)
	return ch.render(p, "No raw samples in these reports.")
}

// Charts renders every chart for one run's rows, in page order.
func Charts(rows []*report.Report) ([]Chart, error) {
	var out []Chart
	for _, f := range []func([]*report.Report) (Chart, error){suffixCurveChart, ttftChart, decodeChart, latencyChart, memoryChart, batchChart, spreadChart} {
		c, err := f(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
