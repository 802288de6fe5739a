package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Column is one column of a side-by-side table: a report and its heading.
type Column struct {
	Label  string
	Report *Report
}

// RatioColumn is a "kernel / reference" column of a side-by-side table.
type RatioColumn struct {
	Label       string
	Kernel, Ref *Report
}

// DerivedColumn is a computed column of a side-by-side table: Cell returns
// the text for one metric row ("" for none).
type DerivedColumn struct {
	Label string
	Cell  func(m Metric) string
}

// Derived turns the ratio column into a computed column ("0.50x").
func (rc RatioColumn) Derived() DerivedColumn {
	return DerivedColumn{Label: rc.Label, Cell: func(m Metric) string {
		if v, ok := Ratio(m, rc.Kernel, rc.Ref); ok {
			return FormatRatio(v)
		}
		return ""
	}}
}

// Columns labels reports for a table: the backend name, or the row label
// when one is set; duplicate labels get the row kind appended.
func Columns(reports []*Report) []Column {
	cols := make([]Column, 0, len(reports))
	seen := map[string]int{}
	for _, r := range reports {
		if r == nil {
			continue
		}
		l := columnLabel(r)
		seen[l]++
		cols = append(cols, Column{Label: l, Report: r})
	}
	for i := range cols {
		if seen[cols[i].Label] > 1 && cols[i].Report.RowKind != "" {
			cols[i].Label += " (" + cols[i].Report.RowKind + ")"
		}
	}
	return cols
}

func columnLabel(r *Report) string { return RowName(r) }

// displayRow is a row's name for people: its label, or the backend's
// display name ("llama.cpp").
func displayRow(r *Report) string {
	if r.RowLabel != "" {
		return r.RowLabel
	}
	return DisplayName(r)
}

// HeadlineColumns returns the computed columns of the run's headline: with
// one tuned reference, the kernel / reference ratio; with several, the best
// reference per metric, the kernel / best ratio, and the ratio to each
// reference. It returns nil when the run lacks a kernel or a reference row.
func HeadlineColumns(reports []*Report) []DerivedColumn {
	return FindStanding(reports).Columns("")
}

// Columns is HeadlineColumns for a standing, each label prefixed with
// prefix (a run's label in a comparison).
func (s Standing) Columns(prefix string) []DerivedColumn {
	if !s.OK() {
		return nil
	}
	kn := displayRow(s.Kernel)
	ratioCols := make([]DerivedColumn, 0, len(s.Refs))
	for _, ref := range s.Refs {
		rc := RatioColumn{Label: prefix + kn + " / " + displayRow(ref), Kernel: s.Kernel, Ref: ref}
		ratioCols = append(ratioCols, rc.Derived())
	}
	if len(s.Refs) == 1 {
		return ratioCols
	}
	best := DerivedColumn{Label: prefix + "best reference", Cell: func(m Metric) string {
		if _, ref, ok := s.Gap(m); ok {
			return displayRow(ref)
		}
		return ""
	}}
	gap := DerivedColumn{Label: prefix + kn + " / best", Cell: func(m Metric) string {
		if v, _, ok := s.Gap(m); ok {
			return FormatRatio(v)
		}
		return ""
	}}
	return append([]DerivedColumn{best, gap}, ratioCols...)
}

// grid is the formatted grid of a side-by-side table (shared by Markdown
// and the plain-text table).
type grid struct {
	header []string
	rows   [][]string
}

func buildGrid(cols []Column, derived []DerivedColumn) grid {
	all := make([]*Report, 0, len(cols))
	for _, c := range cols {
		all = append(all, c.Report)
	}
	g := grid{header: []string{"metric"}}
	for _, c := range cols {
		g.header = append(g.header, c.Label)
	}
	for _, d := range derived {
		g.header = append(g.header, d.Label)
	}
	if len(derived) > 0 {
		g.header = append(g.header, "better")
	}
	for _, m := range Metrics(all) {
		row := []string{m.Name}
		for _, c := range cols {
			row = append(row, m.Format(c.Report))
		}
		for _, d := range derived {
			row = append(row, d.Cell(m))
		}
		if len(derived) > 0 {
			row = append(row, m.Better.String())
		}
		g.rows = append(g.rows, row)
	}
	return g
}

// SideBySide renders the metric table in Markdown: one column per report,
// then the computed columns (ratios) and, when there are any, the direction
// of improvement of each metric.
func SideBySide(cols []Column, derived []DerivedColumn) string {
	g := buildGrid(cols, derived)
	var b strings.Builder
	writeMDRow(&b, g.header)
	sep := make([]string, len(g.header))
	for i := range sep {
		if i == 0 {
			sep[i] = "---"
		} else {
			sep[i] = "---:"
		}
	}
	writeMDRow(&b, sep)
	for _, row := range g.rows {
		writeMDRow(&b, row)
	}
	return b.String()
}

func writeMDRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" ")
		b.WriteString(mdEscape(c))
		b.WriteString(" |")
	}
	b.WriteString("\n")
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// Table renders the side-by-side table as aligned plain text for a terminal,
// with the headline ratio column when the run has a kernel and a tuned
// reference row, followed by skipped rows and failed checks.
func Table(reports []*Report) string {
	g := buildGrid(Columns(reports), HeadlineColumns(reports))
	var b strings.Builder
	// The metric names are padded here so they read left-aligned; the
	// tabwriter right-aligns the figures.
	width := 0
	for _, row := range append([][]string{g.header}, g.rows...) {
		width = max(width, len(row[0]))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range append([][]string{g.header}, g.rows...) {
		cells := append([]string{row[0] + strings.Repeat(" ", width-len(row[0]))}, row[1:]...)
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	_ = tw.Flush()
	// Right alignment puts the cell padding on the left of the first
	// column as well; drop it.
	table := b.String()
	b.Reset()
	for _, line := range strings.SplitAfter(table, "\n") {
		b.WriteString(strings.TrimPrefix(line, "  "))
	}
	if l := WithheldTTFT(reports); l != "" {
		fmt.Fprintln(&b, l)
	}
	for _, r := range reports {
		if r != nil && r.Status == StatusSkipped {
			fmt.Fprintf(&b, "skipped %s: %s\n", r.Backend, r.SkipReason)
		}
	}
	for _, r := range reports {
		for _, f := range CorrectnessFailures(r) {
			if ExpectedFailure(r, f) {
				fmt.Fprintf(&b, "expected (ablation) %s: %s\n", columnLabel(r), f)
				continue
			}
			fmt.Fprintf(&b, "FAILED %s: %s\n", columnLabel(r), f)
		}
	}
	return b.String()
}

// Markdown renders report.md for one run: the headline (the kernel's gap to
// the tuned reference), the side-by-side table, correctness checks, skipped
// rows with their reasons, notes, and the facts that reproduce each row.
func Markdown(reports []*Report) string {
	var b strings.Builder
	b.WriteString("# fakbench report\n\n")
	active := 0
	for _, r := range reports {
		if r != nil && r.Status != StatusSkipped {
			active++
		}
	}
	fmt.Fprintf(&b, "%d backend row(s), %d ran. Timings are wall clock medians over the repetitions (a warm-up discarded); every sample is kept in the JSON files.\n\n",
		len(reports), active)

	b.WriteString(Headline(reports))

	b.WriteString("## Side by side\n\n")
	b.WriteString(SideBySide(Columns(reports), HeadlineColumns(reports)))
	b.WriteString("\n")
	b.WriteString(PhaseNotes(reports))

	b.WriteString(Checks(reports))
	b.WriteString(Skipped(reports))
	b.WriteString(Interrupted(reports))
	b.WriteString(Notes(reports))
	b.WriteString(Reproducibility(Columns(reports)))
	return b.String()
}

// headlineKeys are the figures quoted in the headline, in order.
var headlineKeys = []string{
	"decode.tokens_per_sec",
	"cold_full_prefill.prompt_tps",
	"cold_full_prefill.ttft_ms",
	"warm_changed_suffix.ttft_ms",
	"warm_same_prefix.ttft_ms",
	"edited_stable_segment.ttft_ms",
	"decode.roofline_fraction",
}

// Headline states the Go kernel's remaining gap to the best tuned reference
// per headline metric (the tuned-reference policy of docs/methodology.md: the
// question is the gap to a tuned incumbent, never a win over an untuned
// path). Which reference is best is
// decided per metric among every tuned-reference row that completed; the
// ratios to the others follow in brackets. Without both kinds of row it says
// which is missing.
func Headline(reports []*Report) string {
	var b strings.Builder
	b.WriteString("## Headline: the kernel's gap to the best tuned reference\n\n")
	s := FindStanding(reports)
	if !s.OK() {
		var missing []string
		if len(s.Refs) == 0 {
			missing = append(missing, "tuned_reference row (llama.cpp or OpenVINO, tuned profile)")
		}
		if s.Kernel == nil {
			missing = append(missing, "kernel row (gokernel)")
		}
		fmt.Fprintf(&b, "No headline ratio: this run has no %s that completed.\n\n", strings.Join(missing, " and no "))
		return b.String()
	}
	kn := displayRow(s.Kernel)
	names := make([]string, len(s.Refs))
	for i, r := range s.Refs {
		names[i] = "**" + displayRow(r) + "**"
	}
	fmt.Fprintf(&b, "Kernel row **%s** against the best of the tuned references %s on each metric, same model file, same token IDs, same threads, same run; every row is one configuration, measured in this run.\n\n",
		kn, strings.Join(names, ", "))
	for _, l := range SweptLines(s.Refs) {
		b.WriteString(l + "\n\n")
	}
	for _, g := range s.headlineGaps() {
		fmt.Fprintf(&b, "- %s: %s %s, best reference %s %s: **%s** (%s is better; %s)",
			g.m.Name, kn, g.m.Format(s.Kernel), displayRow(g.ref), g.m.Format(g.ref), FormatRatio(g.ratio), g.m.Better, gapWords(g.m.Better, g.ratio))
		if len(g.others) > 0 {
			fmt.Fprintf(&b, "; against %s", strings.Join(g.others, ", "))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}

// headlineGap is one headline metric of a standing: the best reference,
// the kernel's ratio to it, and its ratios to the others in words.
type headlineGap struct {
	m      Metric
	ref    *Report
	ratio  float64
	others []string
}

// headlineGaps lists the headline metrics (headlineKeys) that the kernel
// and some reference both carry.
func (s Standing) headlineGaps() []headlineGap {
	if !s.OK() {
		return nil
	}
	byKey := map[string]Metric{}
	for _, m := range Metrics(append([]*Report{s.Kernel}, s.Refs...)) {
		byKey[m.Key] = m
	}
	var out []headlineGap
	for _, key := range headlineKeys {
		m, ok := byKey[key]
		if !ok {
			continue
		}
		v, ref, ok := s.Gap(m)
		if !ok {
			continue
		}
		g := headlineGap{m: m, ref: ref, ratio: v}
		for _, o := range s.Refs {
			if o == ref {
				continue
			}
			if ov, ok := Ratio(m, s.Kernel, o); ok {
				g.others = append(g.others, fmt.Sprintf("%s %s: %s", displayRow(o), m.Format(o), FormatRatio(ov)))
			}
		}
		out = append(out, g)
	}
	return out
}

// HeadlineSummary is the headline as plain lines, one per headline metric
// ("decode tok/s: gokernel 64.9, best reference llama.cpp 52.9: 1.23x
// (higher is better)"), for the gate's output; nil without a kernel and a
// reference row that completed.
func HeadlineSummary(reports []*Report) []string {
	s := FindStanding(reports)
	var out []string
	for _, g := range s.headlineGaps() {
		line := fmt.Sprintf("%s: %s %s, best reference %s %s: %s (%s is better)",
			g.m.Name, displayRow(s.Kernel), g.m.Format(s.Kernel), displayRow(g.ref), g.m.Format(g.ref), FormatRatio(g.ratio), g.m.Better)
		if len(g.others) > 0 {
			line += "; against " + strings.Join(g.others, ", ")
		}
		out = append(out, line)
	}
	return out
}

// FormatRatio prints a ratio with an "x": two decimals from 0.1 to 100,
// three significant digits below (so a small ratio never reads as 0.00x).
func FormatRatio(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fx", v)
	case v >= 0.1:
		return fmt.Sprintf("%.2fx", v)
	}
	return fmt.Sprintf("%.3gx", v)
}

func gapWords(better Better, ratio float64) string {
	switch better {
	case Higher:
		if ratio >= 1 {
			return fmt.Sprintf("the kernel reaches %s the reference", FormatRatio(ratio))
		}
		return fmt.Sprintf("the kernel reaches %.0f %% of the reference", ratio*100)
	case Lower:
		if ratio <= 1 {
			return fmt.Sprintf("the kernel is %s faster", FormatRatio(1/ratio))
		}
		return fmt.Sprintf("the kernel takes %s the reference's time", FormatRatio(ratio))
	}
	return ""
}

// Checks lists every failed correctness check per row, or says all passed.
func Checks(reports []*Report) string {
	var b strings.Builder
	b.WriteString("## Correctness checks\n\n")
	failed := false
	for _, r := range reports {
		for _, f := range CorrectnessFailures(r) {
			if ExpectedFailure(r, f) {
				fmt.Fprintf(&b, "- expected for this ablation row, %s: %s\n", columnLabel(r), f)
				continue
			}
			failed = true
			fmt.Fprintf(&b, "- **FAILED** %s: %s\n", columnLabel(r), f)
		}
	}
	if !failed {
		b.WriteString("Every row that ran passes: warm same-prefix hit rate 1, warm and edited outputs equal to cold, the edited segment a measured cache miss, both failure cases handled.\n")
	}
	b.WriteString("\n")
	return b.String()
}

// Skipped lists the rows that did not run, with their reasons.
func Skipped(reports []*Report) string {
	return rowList(reports, StatusSkipped, "Skipped rows", func(r *Report) string {
		reason := r.SkipReason
		if reason == "" {
			reason = "no reason recorded"
		}
		return r.Backend + ": " + reason
	})
}

// Interrupted lists the rows a stopped run did not finish, with what of
// each did not run.
func Interrupted(reports []*Report) string {
	return rowList(reports, StatusInterrupted, "Interrupted rows", func(r *Report) string {
		var not []string
		for _, p := range SectionPaths() {
			if why, ok := r.NotRun[p]; ok {
				not = append(not, p+" ("+why+")")
			}
		}
		if len(not) == 0 {
			not = append(not, "every section ran")
		}
		return RowName(r) + ": interrupted; not run: " + strings.Join(not, ", ")
	})
}

// rowList is a section headed title that lists the rows of status, one
// line each (line says what of a row), or "" when no row has that status.
func rowList(reports []*Report, status, title string, line func(r *Report) string) string {
	var b strings.Builder
	for _, r := range reports {
		if r == nil || r.Status != status {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("## " + title + "\n\n")
		}
		b.WriteString("- " + line(r) + "\n")
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// Notes lists each row's notes.
func Notes(reports []*Report) string {
	var b strings.Builder
	for _, r := range reports {
		if r == nil || len(r.Notes) == 0 {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("## Notes\n\n")
		}
		fmt.Fprintf(&b, "%s:\n\n", columnLabel(r))
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Reproducibility renders the facts that reproduce each row (model and
// token digests, threads, repetitions, versions, settings, build flags,
// host, command) as a table with one column per report.
func Reproducibility(cols []Column) string {
	type fact struct {
		name string
		get  func(r *Report) string
	}
	host := func(f func(h *Host) string) func(r *Report) string {
		return func(r *Report) string {
			if r.Host == nil {
				return ""
			}
			return f(r.Host)
		}
	}
	facts := []fact{
		{"status", func(r *Report) string { return r.Status }},
		{"row kind", func(r *Report) string { return r.RowKind }},
		{"mode", func(r *Report) string { return r.Mode }},
		{"profile", func(r *Report) string { return r.Profile }},
		{"backend version", func(r *Report) string { return r.BackendVersion }},
		{"model", func(r *Report) string { return r.Model }},
		{"model spec", func(r *Report) string { return r.ModelSpec }},
		{"model digest", func(r *Report) string { return r.ModelDigest }},
		{"weight type", func(r *Report) string {
			if r.ModelInfo == nil {
				return ""
			}
			return r.ModelInfo.WeightType
		}},
		{"token-ID digest", func(r *Report) string { return r.TokenDigest }},
		{"threads", func(r *Report) string { return intOrBlank(r.Threads) }},
		{"repetitions", func(r *Report) string { return intOrBlank(r.Repetitions) }},
		{"warm-up", func(r *Report) string { return intOrBlank(r.Warmup) }},
		{"short", func(r *Report) string {
			if r.Short {
				return "true"
			}
			return ""
		}},
		{"schedule", func(r *Report) string {
			if r.Schedule == nil {
				return ""
			}
			if r.Schedule.Rounds > 0 {
				return fmt.Sprintf("%s (%d rounds, %d steps)", r.Schedule.Mode, r.Schedule.Rounds, r.Schedule.Steps)
			}
			return r.Schedule.Mode
		}},
		{"settings", func(r *Report) string {
			return JoinSorted(r.Settings, " ", func(k, v string) string { return k + "=" + v })
		}},
		{"build flags", func(r *Report) string { return r.BuildFlags }},
		{"host", host(func(h *Host) string { return h.Name + " " + h.OS + "/" + h.Arch })},
		{"CPU", host(func(h *Host) string { return h.CPUModel })},
		{"CPU features", host(func(h *Host) string { return h.CPUFeatures })},
		{"CPU features used", func(r *Report) string { return r.Settings["isa"] }},
		{"CPU features unused", func(r *Report) string { return r.CPUFeaturesUnused }},
		{"cores", host(func(h *Host) string { return intOrBlank(h.Cores) })},
		{"memory GB", host(func(h *Host) string {
			if h.MemoryGB == 0 {
				return ""
			}
			return FormatNumber(h.MemoryGB)
		})},
		{"memory bandwidth GB/s", host(func(h *Host) string {
			if h.MemBWGBs == 0 {
				return ""
			}
			return FormatNumber(h.MemBWGBs)
		})},
		{"Go", host(func(h *Host) string { return h.GoVersion })},
		{"C compiler", host(func(h *Host) string { return h.CCompiler })},
		{"started", func(r *Report) string { return r.StartedAt }},
		{"finished", func(r *Report) string { return r.FinishedAt }},
		{"schema", func(r *Report) string { return r.SchemaVersion }},
	}
	var b strings.Builder
	b.WriteString("## Reproducibility\n\n")
	header := []string{"fact"}
	for _, c := range cols {
		header = append(header, c.Label)
	}
	writeMDRow(&b, header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	writeMDRow(&b, sep)
	for _, f := range facts {
		row := []string{f.name}
		any := false
		for _, c := range cols {
			v := f.get(c.Report)
			if v != "" {
				any = true
			}
			row = append(row, codeSpan(v))
		}
		if any {
			writeMDRow(&b, row)
		}
	}
	// Commands are long; list them once each.
	seen := map[string]bool{}
	var cmds []string
	for _, c := range cols {
		if c.Report.Command != "" && !seen[c.Report.Command] {
			seen[c.Report.Command] = true
			cmds = append(cmds, c.Report.Command)
		}
	}
	if len(cmds) > 0 {
		b.WriteString("\nCommand:\n\n")
		for _, c := range cmds {
			fmt.Fprintf(&b, "```\n%s\n```\n", c)
		}
	}
	b.WriteString("\n")
	return b.String()
}

func codeSpan(s string) string {
	if s == "" {
		return ""
	}
	if strings.Contains(s, "`") {
		return s
	}
	return "`" + s + "`"
}

func intOrBlank(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

// JoinSorted renders m's entries in the order of their keys, each as
// item(key, value), joined with sep ("" for no entry).
func JoinSorted[V any](m map[string]V, sep string, item func(k string, v V) string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, item(k, m[k]))
	}
	return strings.Join(parts, sep)
}
