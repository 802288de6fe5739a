package fleet

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is one figure of report.html: an inline SVG and what it shows.
type Chart struct {
	ID, Title, Caption string
	SVG                template.HTML
	// Bars is the number of bars drawn (0: the chart was not drawn and
	// Caption says why).
	Bars int
}

var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

// series is one set of bars: a name and a value per host (0 = none).
type series struct {
	name string
	vals []float64
}

// bars draws one group of bars per host (hosts labelled "host (kind n)"),
// one bar per series; ref > 0 draws a dashed line at that value.
func bars(id, title, caption, ylabel string, hosts []string, ss []series, ref float64) (Chart, error) {
	ch := Chart{ID: id, Title: title, Caption: caption}
	p := plot.New()
	p.Y.Label.Text = ylabel
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	n := len(ss)
	if n == 0 || len(hosts) == 0 {
		ch.Caption = "Not drawn: no figure. " + caption
		return ch, nil
	}
	w := vg.Points(math.Min(36, 440/float64(len(hosts))*0.7/float64(n)))
	for i, s := range ss {
		vals := make(plotter.Values, len(hosts))
		for j := range hosts {
			if v := s.vals[j]; v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
				vals[j] = v
				ch.Bars++
			}
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return ch, fmt.Errorf("%s: bars of %s: %w", id, s.name, err)
		}
		b.Color = palette[i%len(palette)]
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(i)-float64(n-1)/2) * w
		p.Add(b)
		p.Legend.Add(s.name, b)
	}
	if ch.Bars == 0 {
		ch.Caption = "Not drawn: no host has this figure. " + caption
		return ch, nil
	}
	p.NominalX(hosts...)
	p.X.Min, p.X.Max = -0.6, float64(len(hosts))-0.4
	p.Y.Min = 0
	if ref > 0 {
		l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: ref}, {X: p.X.Max, Y: ref}})
		if err != nil {
			return ch, err
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Y.Max = math.Max(p.Y.Max, ref)
	}
	p.Y.Max *= 1.25
	c := vgsvg.NewWith(vgsvg.UseWH(7.5*vg.Inch, 4*vg.Inch), vgsvg.EmbedFonts(false))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return ch, err
	}
	s := buf.String()
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	ch.SVG = template.HTML(s) // our own SVG, drawn above
	return ch, nil
}

// Charts draws the report's figures: each backend's prefill, decode and
// warm TTFT per host, the memory bandwidth per host, and the Go kernel's
// ratio to the best reference per host.
func (f *Fleet) Charts() ([]Chart, error) {
	hosts := f.Hosts()
	kindNo := map[Kind]int{}
	for i, g := range f.Groups {
		kindNo[g.Kind] = i + 1
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = fmt.Sprintf("%s (kind %d)", h.Label, kindNo[h.Kind])
	}
	per := func(suffix string) []series {
		var ss []series
		for _, be := range f.Backends {
			s := series{name: be, vals: make([]float64, len(hosts))}
			for i, h := range hosts {
				s.vals[i], _ = h.Value(be + suffix)
			}
			ss = append(ss, s)
		}
		return ss
	}
	bw := series{name: "memory bandwidth", vals: make([]float64, len(hosts))}
	for i, h := range hosts {
		bw.vals[i], _ = h.Value(bandwidthKey)
	}
	var ratios []series
	for _, hl := range headline {
		s := series{name: hl.name, vals: make([]float64, len(hosts))}
		for i, h := range hosts {
			for _, r := range h.Ratios {
				if r.Metric == hl.key {
					s.vals[i] = r.Value
				}
			}
		}
		ratios = append(ratios, s)
	}
	specs := []struct {
		id, title, caption, ylabel string
		ss                         []series
		ref                        float64
	}{
		{"decode", "Decode tok/s per host", "Greedy decode throughput of each backend on each host (higher is better).", "tok/s", per(" decode tok/s"), 0},
		{"prefill", "Cold prefill tok/s per host", "Prefill throughput of the stable prefix from an empty cache (higher is better).", "tok/s", per(" prefill tok/s"), 0},
		{"ttft", "Warm TTFT ms per host", "Time to the first token of a new suffix after a resident prefix (lower is better).", "ms", per(" warm TTFT ms"), 0},
		{"bandwidth", "Memory bandwidth per host", "Measured by the node bench (median of five passes); the decode roofline divides by it.", "GB/s", []series{bw}, 0},
		{"kernel", "Go kernel / best tuned reference per host", "The kernel's figure over the best reference's on the same host and run; the dashed line is parity (above it is better for prefill and decode, below it for TTFT).", "ratio", ratios, 1},
	}
	var out []Chart
	for _, s := range specs {
		ch, err := bars(s.id, s.title, s.caption, s.ylabel, names, s.ss, s.ref)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

// HTML is report.html: the same tables as report.md and the charts, in
// one self-contained page (inline CSS and SVG, no script, nothing fetched).
func (f *Fleet) HTML() ([]byte, error) {
	charts, err := f.Charts()
	if err != nil {
		return nil, fmt.Errorf("fleet report.html: %w", err)
	}
	type hostView struct {
		Kind, Label, Features, Cores, Memory, Bandwidth, Ratios, Gate string
		Pass                                                          bool
		Cells, Outliers                                               []string
	}
	type groupView struct {
		Kind    string
		Hosts   int
		Spreads []Spread
	}
	data := struct {
		Summary  []string
		Command  string
		Backends []string
		Hosts    []hostView
		Groups   []groupView
		Charts   []Chart
		Refused  []Refusal
		Dir      string
	}{Summary: f.Summary(), Command: f.Options.command(), Backends: f.Backends, Charts: charts, Refused: f.Refused, Dir: f.Dir}
	for _, g := range f.Groups {
		data.Groups = append(data.Groups, groupView{Kind: g.Kind.String(), Hosts: len(g.Hosts), Spreads: g.Spreads})
		for _, h := range g.Hosts {
			m := h.Manifest.Host
			v := hostView{Kind: g.Kind.String(), Label: h.Label, Features: orDash(m.CPUFeatures), Cores: fmt.Sprint(m.Cores),
				Memory: num(m.MemoryGB), Bandwidth: bandwidthCell(h), Ratios: ratioCell(h), Gate: h.GateText(), Pass: h.Gate.Pass, Outliers: h.Outliers}
			for _, be := range f.Backends {
				v.Cells = append(v.Cells, backendCell(h, be))
			}
			data.Hosts = append(data.Hosts, v)
		}
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("fleet report.html: %w", err)
	}
	return buf.Bytes(), nil
}

var pageTmpl = template.Must(template.New("fleet").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.1f %%", v) },
	"num": num,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fakbench fleet report</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1.5em; color: #222; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text { text-align: left; }
thead th { background: #f3f3f3; }
.ok { color: #1a7f37; font-weight: bold; }
.bad { color: #c62828; font-weight: bold; }
td.flag { background: #fdecea; text-align: left; }
figure { margin: 1em 0 2em; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figure svg text { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; }
figcaption { color: #555; font-size: .9em; }
code { font-family: "Liberation Mono", Menlo, monospace; font-size: .85em; }
.note { color: #555; font-size: .9em; }
</style>
</head>
<body>
<h1>Fleet report</h1>
{{range .Summary}}<p>{{.}}</p>
{{end}}{{if .Command}}<p class="note">Produced by <code>{{.Command}}</code></p>{{end}}
<h2>Hosts, grouped by CPU kind</h2>
<p class="note">Each backend's cell is cold prefill tok/s / decode tok/s / warm TTFT ms. The Go kernel column is its figure over the best tuned reference's on that host.</p>
<table id="hosts">
<thead><tr><th>CPU kind</th><th>host</th><th>CPU features</th><th>cores</th><th>memory GB</th><th>mem BW GB/s</th>{{range .Backends}}<th>{{.}} prefill / decode / TTFT</th>{{end}}<th>Go kernel / best reference</th><th>gate</th><th>outliers</th></tr></thead>
<tbody>
{{range .Hosts}}<tr><td>{{.Kind}}</td><td class="text">{{.Label}}</td><td class="text">{{.Features}}</td><td>{{.Cores}}</td><td>{{.Memory}}</td><td>{{.Bandwidth}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}<td class="text">{{.Ratios}}</td><td class="{{if .Pass}}ok{{else}}bad{{end}}">{{.Gate}}</td>{{if .Outliers}}<td class="flag">{{range .Outliers}}{{.}}<br>{{end}}</td>{{else}}<td>-</td>{{end}}</tr>
{{end}}</tbody>
</table>
<h2>Charts</h2>
{{range .Charts}}<figure id="{{.ID}}">
<h3>{{.Title}}</h3>
{{.SVG}}
<figcaption>{{.Caption}}</figcaption>
</figure>
{{end}}
<h2>Spread within each CPU kind</h2>
{{range .Groups}}<h3>{{.Kind}}: {{.Hosts}} host(s)</h3>
{{if lt .Hosts 2}}<p class="note">One host: no spread, and no outlier can be told from it.</p>{{end}}
<table class="spread">
<thead><tr><th>figure</th><th>hosts</th><th>min</th><th>median</th><th>max</th><th>spread</th><th>better</th></tr></thead>
<tbody>
{{range .Spreads}}<tr><td>{{.Key}}</td><td>{{.N}}</td><td>{{num .Min}}</td><td>{{num .Median}}</td><td>{{num .Max}}</td><td>{{pct .Percent}}</td><td>{{.Better}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
{{if .Refused}}<h2>Refused</h2>
<ul id="refused">
{{range .Refused}}<li><b>{{or .Label "?"}}</b> ({{or .Source "collected, re-verified"}}):<ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul></li>
{{end}}</ul>{{end}}
</body>
</html>
`))
