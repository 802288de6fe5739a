package fleet

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/fakbench/fakbench/report"
)

// ReportFile and HTMLFile are what Write leaves in the collected
// directory.
const (
	ReportFile = "report.md"
	HTMLFile   = "report.html"
)

// Summary is the report's first lines: hosts, kinds, gate, threshold.
func (f *Fleet) Summary() []string {
	hosts := f.Hosts()
	pass := 0
	for _, h := range hosts {
		if h.Gate.Pass {
			pass++
		}
	}
	prof := f.Options.Profile
	if prof == "" {
		prof = "each manifest's"
	}
	return []string{
		fmt.Sprintf("%d host(s) in %d CPU kind(s), collected in %s; %d pass their gate, %d fail; %d folder(s) refused.",
			len(hosts), len(f.Groups), f.Dir, pass, len(hosts)-pass, len(f.Refused)),
		fmt.Sprintf("Gate: every host's artifact folder through `fakbench gate` (profile: %s; clean node asserted: %v).", prof, f.Options.CleanNode),
		fmt.Sprintf("Outliers: threshold %.0f %% (--outlier %g): %s.", f.Options.Outlier*100, f.Options.Outlier, OutlierBasis),
	}
}

// backendCell is "prefill / decode / warm TTFT" of a backend on a host.
func backendCell(h *HostRow, name string) string {
	b := h.Backend(name)
	switch {
	case b == nil:
		return "-"
	case b.Status == report.StatusSkipped || b.Status == report.StatusFailed:
		return b.Status
	}
	cell := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return num(v)
	}
	return cell(b.PrefillTPS) + " / " + cell(b.DecodeTPS) + " / " + cell(b.WarmTTFTMS)
}

// ratioCell lists the kernel's ratios to the best reference.
func ratioCell(h *HostRow) string {
	var parts []string
	for _, r := range h.Ratios {
		parts = append(parts, fmt.Sprintf("%s %s (%s)", r.Name, report.FormatRatio(r.Value), r.Reference))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func bandwidthCell(h *HostRow) string {
	if v, ok := h.Value(bandwidthKey); ok {
		return num(v)
	}
	return "-"
}

// Markdown is report.md.
func (f *Fleet) Markdown() string {
	var b strings.Builder
	b.WriteString("# Fleet report\n\n")
	for _, l := range f.Summary() {
		b.WriteString(l + "\n")
	}
	if f.Options.command() != "" {
		fmt.Fprintf(&b, "\nCommand: `%s`\n", f.Options.command())
	}

	b.WriteString("\n## Hosts, grouped by CPU kind\n\n")
	b.WriteString("Each backend's cell is cold prefill tok/s / decode tok/s / warm TTFT ms (a new suffix after a resident prefix). ")
	b.WriteString("The kernel column is the Go kernel's figure over the best tuned reference's on that host (higher is better for prefill and decode, lower for TTFT).\n\n")
	head := []string{"CPU kind", "host", "CPU features", "cores", "memory GB", "mem BW GB/s"}
	for _, be := range f.Backends {
		head = append(head, be+" prefill / decode / TTFT")
	}
	head = append(head, "Go kernel / best reference", "gate", "outliers")
	row(&b, head)
	row(&b, dashes(len(head)))
	for _, g := range f.Groups {
		for _, h := range g.Hosts {
			m := h.Manifest.Host
			cells := []string{g.Kind.String(), h.Label, orDash(m.CPUFeatures), fmt.Sprint(m.Cores), num(m.MemoryGB), bandwidthCell(h)}
			for _, be := range f.Backends {
				cells = append(cells, backendCell(h, be))
			}
			out := "-"
			if len(h.Outliers) > 0 {
				out = "**" + strings.Join(h.Outliers, "; ") + "**"
			}
			cells = append(cells, ratioCell(h), h.GateText(), out)
			row(&b, cells)
		}
	}

	b.WriteString("\n## Spread within each CPU kind\n\n")
	for _, g := range f.Groups {
		fmt.Fprintf(&b, "### %s: %d host(s)\n\n", g.Kind, len(g.Hosts))
		if len(g.Hosts) < 2 {
			b.WriteString("One host: no spread, and no outlier can be told from it.\n\n")
		}
		row(&b, []string{"figure", "hosts", "min", "median", "max", "spread (max − min) / median", "better"})
		row(&b, dashes(7))
		for _, s := range g.Spreads {
			row(&b, []string{s.Key, fmt.Sprint(s.N), num(s.Min), num(s.Median), num(s.Max), fmt.Sprintf("%.1f %%", s.Percent), s.Better.String()})
		}
		b.WriteString("\n")
	}

	b.WriteString("## Gate verdicts\n\n")
	for _, h := range f.Hosts() {
		fmt.Fprintf(&b, "- %s: %s\n", h.Label, h.GateText())
		for _, c := range h.Gate.Criteria {
			if !c.Pass {
				fmt.Fprintf(&b, "  - %s: %s\n", c.Name, c.Detail)
			}
		}
	}
	if len(f.Refused) > 0 {
		b.WriteString("\n## Refused\n\n")
		for _, r := range f.Refused {
			where := r.Source
			if where == "" {
				where = "in " + f.Dir
			}
			fmt.Fprintf(&b, "- %s (%s): %s\n", orDash(r.Label), where, strings.Join(r.Reasons, "; "))
		}
	}
	return b.String()
}

func row(b *strings.Builder, cells []string) {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", "\\|")
	}
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

func dashes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "---"
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Publish writes report.md and report.html into the collected directory,
// then prints the Markdown and the two paths to w.
func (f *Fleet) Publish(w io.Writer) error {
	md, html, err := f.Write()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\nwritten: %s, %s\n", f.Markdown(), md, html)
	return err
}

// Write writes report.md and report.html into the collected directory and
// returns their paths.
func (f *Fleet) Write() (md, html string, err error) {
	md, html = filepath.Join(f.Dir, ReportFile), filepath.Join(f.Dir, HTMLFile)
	if err := report.WriteFileAtomic(md, []byte(f.Markdown())); err != nil {
		return "", "", err
	}
	page, err := f.HTML()
	if err != nil {
		return "", "", err
	}
	return md, html, report.WriteFileAtomic(html, page)
}
