// Package html renders fakbench reports as one self-contained HTML page:
// the headline (the Go kernel's gap to the tuned reference), the rows kept
// apart by kind, charts as inline SVG (drawn with gonum/plot), and the facts
// that make every row reproducible. Nothing is loaded from the network.
package html

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/fakbench/fakbench/report"
)

// Run is one benchmark run: the reports written into one output directory.
type Run struct {
	// Label names the run (its directory in a comparison).
	Label string
	Rows  []*report.Report
}

// ComparePage is the page of a comparison ("fakbench compare --html"):
// one Run per run directory, in order. command is the command line. Runs
// that differ in their workload (report.CheckComparable, compared anyway
// with --allow-mismatch) get the differences as a warning at the top.
func ComparePage(runs []report.RunSet, command string) Page {
	p := Page{Title: "fakbench comparison", Command: command, Warnings: report.MismatchWarnings(runs)}
	for _, r := range runs {
		p.Runs = append(p.Runs, Run{Label: r.Label, Rows: r.Reports})
	}
	return p
}

// Page is what Render draws.
type Page struct {
	Title string
	// Command is the command line that produced the page.
	Command string
	// Warnings head the page, one item each: what the reader must know
	// before reading any ratio (the runs of a comparison differ in their
	// workload).
	Warnings []string
	Runs     []Run
}

// kindOrder and kindTitle keep the tuned-reference policy's rows apart.
var kindOrder = []string{"tuned_reference", "kernel", "ablation", "candidate_headroom", "untuned", ""}

var kindTitle = map[string]string{
	"tuned_reference":    "Tuned reference",
	"kernel":             "In-repo kernel",
	"ablation":           "Ablations",
	"candidate_headroom": "Candidate headroom (not a claim until a tuned artifact proves it)",
	"untuned":            "Untuned paths (never a headline)",
	"":                   "Other rows",
}

type rowGroup struct {
	Title string
	Rows  []*report.Report
}

// tableView is the side-by-side table: one column per measured row, the
// columns ordered and labelled by row kind, one line per report.Metric.
type tableView struct {
	Heads []tableHead
	Lines []tableLine
}

type tableHead struct{ Name, Kind string }

type tableLine struct {
	Name  string
	Cells []tableCell
}

type tableCell struct {
	Text  string
	Class string
}

func buildTable(rows []*report.Report) tableView {
	var tv tableView
	for _, r := range rows {
		tv.Heads = append(tv.Heads, tableHead{Name: rowName(r), Kind: kindTitle[r.RowKind]})
	}
	for _, m := range report.Metrics(rows) {
		line := tableLine{Name: m.Name}
		if m.Better != report.Info {
			line.Name += " (" + m.Better.String() + " is better)"
		}
		for _, r := range rows {
			c := tableCell{Text: m.Format(r)}
			if m.Check {
				if v, ok := m.Value(r); ok {
					c.Class = "bad"
					if v >= 1 {
						c.Class = "ok"
					}
				}
			}
			line.Cells = append(line.Cells, c)
		}
		tv.Lines = append(tv.Lines, line)
	}
	return tv
}

type runView struct {
	Table    tableView
	Label    string
	Headline []Gap
	RefName  string
	KerName  string
	// Swept says, per swept tuned reference, which configuration it is and
	// where its sweep is kept (report.SweptLines).
	Swept   []string
	Groups  []rowGroup
	Skipped []*report.Report
	Charts  []Chart
	Facts   []*report.Report
}

func groupRows(rows []*report.Report) (groups []rowGroup, skipped []*report.Report) {
	by := map[string][]*report.Report{}
	for _, r := range rows {
		if r.Status == "skipped" {
			skipped = append(skipped, r)
			continue
		}
		k := r.RowKind
		if _, known := kindTitle[k]; !known {
			k = ""
		}
		by[k] = append(by[k], r)
	}
	for _, k := range kindOrder {
		if len(by[k]) > 0 {
			groups = append(groups, rowGroup{Title: kindTitle[k], Rows: by[k]})
		}
	}
	return groups, skipped
}

func buildRun(run Run) (runView, error) {
	rows := append([]*report.Report(nil), run.Rows...)
	sort.SliceStable(rows, func(i, j int) bool { return kindRank(rows[i].RowKind) < kindRank(rows[j].RowKind) })
	v := runView{Label: run.Label, Headline: Headline(rows)}
	if st := report.FindStanding(rows); st.OK() {
		names := make([]string, len(st.Refs))
		for i, r := range st.Refs {
			names[i] = rowName(r)
		}
		v.RefName, v.KerName = strings.Join(names, ", "), rowName(st.Kernel)
		v.Swept = report.SweptLines(st.Refs)
	}
	v.Groups, v.Skipped = groupRows(rows)
	var measured []*report.Report
	for _, g := range v.Groups {
		measured = append(measured, g.Rows...)
	}
	charts, err := Charts(measured)
	if err != nil {
		return v, err
	}
	v.Charts = charts
	v.Facts = measured
	v.Table = buildTable(measured)
	return v, nil
}

func kindRank(k string) int {
	for i, o := range kindOrder {
		if o == k {
			return i
		}
	}
	return len(kindOrder)
}

var funcs = template.FuncMap{
	"name": rowName,
	"join": strings.Join,
	"f2":   func(v float64) string { return num(v, 2) },
	"ratio": func(g Gap) string {
		if g.Ratio <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.2fx", g.Ratio)
	},
	"cls": func(g Gap) string {
		switch {
		case g.Ratio <= 0:
			return "na"
		case g.Ratio < 0.995:
			return "gap"
		default:
			return "ahead"
		}
	},
	"svg":      func(s string) template.HTML { return template.HTML(s) },
	"settings": sortedSettings,
}

func num(v float64, prec int) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

type kv struct{ K, V string }

func sortedSettings(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

var pageTmpl = template.Must(template.New("page").Funcs(funcs).Parse(pageSource))

// Render writes the page to w.
func Render(w io.Writer, p Page) error {
	if len(p.Runs) == 0 {
		return fmt.Errorf("html report: no runs to render")
	}
	data := struct {
		Title, Command string
		Warnings       []string
		Runs           []runView
	}{Title: p.Title, Command: p.Command, Warnings: p.Warnings}
	if data.Title == "" {
		data.Title = "fakbench report"
	}
	for _, run := range p.Runs {
		v, err := buildRun(run)
		if err != nil {
			return fmt.Errorf("html report for %s: %w", run.Label, err)
		}
		data.Runs = append(data.Runs, v)
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, data); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteFile renders the page into path atomically (a temporary file in the
// same directory, then a rename), so a reader never sees a partial page. It
// writes through report.WriteFileAtomic, so the page has the mode of every
// other output file (0644).
func WriteFile(path string, p Page) error {
	var buf bytes.Buffer
	if err := Render(&buf, p); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return report.WriteFileAtomic(path, buf.Bytes())
}
