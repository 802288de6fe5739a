package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/harness/sweep"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/internal/progress"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// entries returns the registry entries of names (which parseRunFlags has
// checked), in order.
func entries(names []string) []adapters.Entry {
	out := make([]adapters.Entry, 0, len(names))
	for _, n := range names {
		if e, err := adapters.Lookup(n); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// registered lists the names (or display names) of the registered backends
// that keep(e) selects, sorted by name.
func registered(keep func(adapters.Entry) bool, display bool) []string {
	var out []string
	for _, e := range entries(adapters.Names()) {
		if keep(e) {
			if display {
				out = append(out, e.Display)
			} else {
				out = append(out, e.Name)
			}
		}
	}
	return out
}

func hasSweep(e adapters.Entry) bool     { return e.SweepGrid != "" }
func hasUntuned(e adapters.Entry) bool   { return e.Untuned }
func hasAblations(e adapters.Entry) bool { return len(e.Ablations) > 0 }

// ablationNames lists the ablation names of es, sorted and without repeats.
func ablationNames(es []adapters.Entry) []string {
	var out []string
	for _, e := range es {
		for _, a := range e.Ablations {
			if !slices.Contains(out, a.Name) {
				out = append(out, a.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// llamacppGridHint is the default grid of the first sweepable backend, for
// the flag help.
func DefaultGridHint() string {
	for _, e := range entries(adapters.Names()) {
		if hasSweep(e) {
			return e.SweepGrid
		}
	}
	return "(none registered)"
}

// ResolveRows checks Sweep, the grid (--grid: gridText when gridSet),
// Ablations and Untuned against Backends and Profile, from what the
// registry says each backend has, and sets Grids. Its errors are input
// errors, worded for the command line.
func (o *Options) ResolveRows(gridText string, gridSet bool) error {
	run := entries(o.Backends)
	pick := func(keep func(adapters.Entry) bool) []adapters.Entry {
		var out []adapters.Entry
		for _, e := range run {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	backends := strings.Join(o.Backends, ",")
	if gridSet && !o.Sweep {
		return fmt.Errorf("--grid needs --sweep")
	}
	if o.Sweep {
		swept := pick(hasSweep)
		switch {
		case len(swept) == 0:
			return fmt.Errorf("--sweep tunes %s, which is not in --backends (%s)", strings.Join(registered(hasSweep, false), ", "), backends)
		case o.Profile != "tuned":
			return fmt.Errorf("--sweep composes the tuned reference: it needs --profile tuned, not %q", o.Profile)
		}
		o.Grids = map[string]sweep.Grid{}
		for _, e := range swept {
			text := e.SweepGrid
			if gridSet {
				text = gridText
			}
			g, err := ParseGrid(text)
			if err != nil {
				return fmt.Errorf("--grid: %v", err)
			}
			o.Grids[e.Name] = g
		}
	}
	if o.Untuned {
		switch {
		case len(pick(hasUntuned)) == 0:
			return fmt.Errorf("--untuned adds %s's untuned row: %s is not in --backends (%s)",
				strings.Join(registered(hasUntuned, true), ", "), strings.Join(registered(hasUntuned, false), ", "), backends)
		case o.Profile == "untuned":
			return fmt.Errorf("--untuned with --profile untuned would run the untuned profile twice")
		}
	}
	if len(o.Ablations) == 0 {
		return nil
	}
	kernels := pick(hasAblations)
	if len(kernels) == 0 {
		owners := registered(hasAblations, false)
		missing := owners[0] + " is not"
		if len(owners) > 1 {
			missing = "none of " + strings.Join(owners, ", ") + " is"
		}
		return fmt.Errorf("--ablations are rows of %s: %s in --backends (%s)",
			strings.Join(registered(hasAblations, true), ", "), missing, backends)
	}
	known := ablationNames(kernels)
	seen := map[string]bool{}
	for _, a := range o.Ablations {
		if !slices.Contains(known, a) {
			return fmt.Errorf("--ablations: unknown ablation %q (known: %s)", a, strings.Join(known, ", "))
		}
		if seen[a] {
			return fmt.Errorf("--ablations names %q twice", a)
		}
		seen[a] = true
	}
	return nil
}

// DefaultTuneBackend is the first registered backend with a sweep grid
// ("fakbench tune"'s default), or "" when none has one.
func DefaultTuneBackend() string {
	if names := Sweepable(); len(names) > 0 {
		return names[0]
	}
	return ""
}

// ResolveTune checks o (Check) and makes it the tuning of one backend
// ("fakbench tune"): the backend alone, its tuned profile swept over the
// grid given (--grid: gridText when gridSet) or else its registered one,
// the defaults filled. It returns the grid; its errors are input errors,
// worded for the command line.
func (o *Options) ResolveTune(backend, gridText string, gridSet, repsGiven bool) (sweep.Grid, error) {
	if err := o.Check(repsGiven, "sweep-<backend>.json"); err != nil {
		return nil, err
	}
	e, err := adapters.Lookup(backend)
	if err != nil {
		return nil, fmt.Errorf("--backend: %w", err)
	}
	text := e.SweepGrid
	if gridSet {
		text = gridText
	} else if text == "" {
		return nil, fmt.Errorf("no default grid for backend %q: give --grid key=v1,v2;... over its options", backend)
	}
	g, err := ParseGrid(text)
	if err != nil {
		return nil, fmt.Errorf("--grid: %w", err)
	}
	o.Backends, o.Profile, o.Sweep = []string{backend}, "tuned", true
	o.Grids = map[string]sweep.Grid{backend: g}
	o.Defaults(repsGiven)
	return g, nil
}

// ParseGrid parses a sweep grid and refuses a threads axis: the thread
// count is fixed to the run's so that ratios stay same-thread.
func ParseGrid(s string) (sweep.Grid, error) {
	g, err := sweep.ParseGrid(s)
	if err != nil {
		return nil, err
	}
	for _, a := range g {
		if a.Key == "threads" {
			return nil, fmt.Errorf("threads cannot be swept: every configuration runs with --threads so ratios stay same-thread")
		}
	}
	return g, nil
}

// opened is one row of the run: a backend with its profile and options,
// loaded, or skipped/failed with a reason.
type opened struct {
	name      string            // registry name of the backend
	label     string            // row label ("" = the backend name)
	kind      string            // row kind
	profile   string            // settings profile
	extra     map[string]string // backend options (adapters.Options.Extra)
	sweep     bool              // sweep this row's settings first (adoptChoice then makes it an ordinary row)
	swept     *report.Swept     // the configuration its sweep chose, and how
	note      string            // what the row is, for its notes ("" = none)
	expected  []string          // checks the row fails by design (adapters.Ablation.Expected)
	exclusive bool              // switches process-wide state: never interleaved (adapters.Ablation.Exclusive)
	available bool              // the probe open succeeded
	backend   transport.Backend // open now (nil between the probe and the run)
	rep       *report.Report    // set when the backend did not load
	measured  bool              // the harness ran on it (not swept, skipped or failed to open)
	peakErr   error             // why its peak could not be started (startPeakRSS; in-process rows)
	started   time.Time
}

// display is the row's name in progress lines and file names.
func (r *opened) display() string {
	if r.label != "" {
		return r.label
	}
	return r.name
}

// planRows lists the run's rows: one per --backends entry, then the
// --untuned and --ablations rows of the backends that have them.
func planRows(o Options) []*opened {
	var rows []*opened
	run := entries(o.Backends)
	for _, e := range run {
		rows = append(rows, &opened{name: e.Name, kind: rowKind(e.Name, o.Profile), profile: o.Profile,
			sweep: o.Sweep && hasSweep(e)})
	}
	if o.Untuned {
		for _, e := range run {
			if hasUntuned(e) {
				rows = append(rows, &opened{name: e.Name, label: e.Name + "-untuned", kind: report.KindUntuned, profile: "untuned",
					note: "untuned row: " + e.Display + " as a naive caller of the C API gets it (its default context parameters and thread count); not a reference"})
			}
		}
	}
	for _, a := range o.Ablations {
		for _, e := range run {
			if ab, ok := e.Ablation(a); ok {
				rows = append(rows, &opened{name: e.Name, label: ab.Label, kind: report.KindAblation, profile: o.Profile,
					extra: ab.Extra, note: "ablation " + ab.Label + ": " + ab.What, expected: ab.Expected, exclusive: ab.Exclusive})
			}
		}
	}
	return rows
}

// openBackend opens one backend with the run's threads and context and the
// given profile and options.
func openBackend(ctx context.Context, o Options, m models.Resolved, name, profile string, extra map[string]string) (transport.Backend, error) {
	return adapters.Open(ctx, name, adapters.Options{
		ModelPath: m.Path, Threads: o.Threads, ContextLength: o.CtxLen, Profile: profile, Extra: extra,
	})
}

// openRow opens a row's backend.
func openRow(ctx context.Context, o Options, m models.Resolved, row *opened) (transport.Backend, error) {
	return openBackend(ctx, o, m, row.name, row.profile, row.extra)
}

// openFailedReport is the row of a backend that failed to open for a reason
// other than being unavailable here.
func openFailedReport(o Options, m models.Resolved, row *opened, err error) *report.Report {
	r := baseReport(o, m, row)
	r.Status = report.StatusFailed
	r.Notes = append(r.Notes, "open failed: "+err.Error())
	return r
}

// probeGrid opens and closes the backend once per configuration of g, so a
// bad option in the grid is a usage error before anything is measured.
func probeGrid(ctx context.Context, o Options, m models.Resolved, name string, g sweep.Grid) error {
	if o.isolated() {
		_, err := probeInChild(ctx, o, m, &opened{name: name, profile: "tuned"}, g.Configs())
		return err
	}
	for _, c := range g.Configs() {
		b, err := openBackend(ctx, o, m, name, "tuned", c.Extra)
		if err != nil {
			return fmt.Errorf("configuration %s: %w", c.Name, err)
		}
		_ = b.Close()
	}
	return nil
}

// runRows measures every available row that is not swept and records in
// each report how it shared the node. With the interleaved schedule the
// rows' backends are all open at once and take turns per section and
// repetition (harness.Interleave); a row that switches process-wide state
// (an exclusive ablation, e.g. the Go kernel's generic kernel set) cannot
// share the process and runs alone afterwards. With the sequential schedule
// each row runs its whole suite after the other, alone in memory (its peak
// RSS is then its own).
func runRows(ctx context.Context, o Options, m models.Resolved, sc harness.Scenario, rows []*opened,
	host report.Host, flags string, logw, stderr io.Writer) {
	var shared, alone []*opened
	for _, row := range rows {
		switch {
		case !row.available || row.sweep:
		case o.Schedule == harness.ScheduleSequential || (row.exclusive && !o.isolated()):
			alone = append(alone, row)
		default:
			shared = append(shared, row)
		}
	}
	if len(shared) == 1 {
		// Nothing to take turns with.
		alone, shared = append(shared, alone...), nil
	}
	// open (re)opens a row's backend; a failure becomes the row's report.
	// An isolated row opens in its child.
	open := func(row *opened) bool {
		if row.backend != nil || o.isolated() {
			return true
		}
		row.started = time.Now()
		b, err := openRow(ctx, o, m, row)
		if err != nil {
			row.rep = openFailedReport(o, m, row, err)
			fmt.Fprintf(stderr, "fakbench run: %s failed to reopen: %v\n", row.display(), err)
			return false
		}
		row.backend = b
		return true
	}
	finish := func(row *opened) {
		rowNotes(row)
		if row.backend != nil {
			_ = row.backend.Close()
			row.backend = nil
		}
	}
	if len(shared) > 0 && ctx.Err() == nil {
		interleaveRows(ctx, o, m, sc, shared, host, flags, logw, stderr, open, finish)
	}
	names := make([]string, len(alone))
	for i, row := range alone {
		names[i] = row.display()
	}
	for _, row := range alone {
		if ctx.Err() != nil {
			break
		}
		if row.backend == nil && !o.isolated() {
			// A row kept open since its probe started its peak there.
			row.peakErr = startPeakRSS()
		}
		if !open(row) {
			continue
		}
		row.rep = measure(ctx, o, m, sc, row, host, flags, logw, nil)
		row.measured = true
		if !o.isolated() {
			setPeakRSS(row.rep, row.peakErr, false)
		}
		finish(row)
		rule := "each row runs its whole suite after the previous one, in the order of the rows"
		if row.exclusive && o.Schedule != harness.ScheduleSequential {
			rule = "this row switches process-wide state (" + row.note + "), so it ran alone after the interleaved rows"
		}
		row.rep.Schedule = &report.Schedule{Mode: harness.ScheduleSequential, Rows: names, Rule: rule}
	}
}

// interleaveRows runs rows together: all open, taking turns per section and
// repetition in a rotating order (harness.Interleave).
func interleaveRows(ctx context.Context, o Options, m models.Resolved, sc harness.Scenario, rows []*opened,
	host report.Host, flags string, logw, stderr io.Writer, open func(*opened) bool, finish func(*opened)) {
	var live []*opened
	for _, row := range rows {
		if open(row) {
			live = append(live, row)
		}
	}
	fns := make([]func(yield func()), len(live))
	names := make([]string, len(live))
	for i, row := range live {
		names[i] = row.display()
		fns[i] = func(yield func()) {
			row.rep = measure(ctx, o, m, sc, row, host, flags, logw, yield)
			row.measured = true
		}
	}
	fmt.Fprintf(logw, "fakbench run: %d rows interleaved per section and repetition, rotating order: %s\n",
		len(live), strings.Join(names, ", "))
	hs, errs := harness.Interleave(fns)
	sched := &report.Schedule{Mode: harness.ScheduleInterleaved, Rows: names, Rounds: hs.Rounds, Steps: hs.Steps,
		Rule: "one step (a section or one repetition, warm-up included) per row per round; round k starts with row k mod n and goes on in row order, so the order rotates; nothing timed spans a switch"}
	for _, order := range hs.FirstRounds {
		r := make([]string, len(order))
		for j, id := range order {
			r[j] = names[id]
		}
		sched.FirstRounds = append(sched.FirstRounds, r)
	}
	for i, row := range live {
		if errs[i] != nil {
			fmt.Fprintf(stderr, "fakbench run: %s: %v\n", row.display(), errs[i])
			if row.rep == nil {
				row.rep = baseReport(o, m, row)
			}
			row.rep.Status = report.StatusFailed
			row.rep.Notes = append(row.rep.Notes, "run aborted: "+errs[i].Error())
		}
		finish(row)
		row.rep.Schedule = sched
		if !o.isolated() {
			row.rep.Notes = append(row.rep.Notes, "peak_rss_mb not recorded: in the interleaved schedule every backend is resident in one process at once, so the process peak is not this row's (--schedule sequential or --isolation process measures it per row)")
			if row.rep.Memory != nil {
				row.rep.Memory.Source += "; in this in-process interleaved run every backend was resident in the one process, so the resident-set figures are the process's, not this row's alone (the decode session's growth, read within one turn, is its own)"
			}
		}
	}
}

// rowNotes adds what the row is to its report's notes (ablation, untuned,
// a tuned reference that could have been swept but was not).
func rowNotes(row *opened) {
	r := row.rep
	if row.note != "" {
		r.Notes = append(r.Notes, row.note)
	}
	r.Swept = row.swept
	e, err := adapters.Lookup(row.name)
	if err != nil || !hasSweep(e) || row.kind != report.KindTunedReference || row.swept != nil {
		return
	}
	var set []string
	if g, err := sweep.ParseGrid(e.SweepGrid); err == nil {
		for _, a := range g {
			set = append(set, a.Key+" "+r.Settings[a.Key])
		}
	}
	set = append(set, "threads "+r.Settings["threads"])
	r.Notes = append(r.Notes, fmt.Sprintf(
		"tuned reference not swept: %s's tuned profile defaults as they are (%s); fakbench run --sweep chooses one configuration of its %s sweep by a declared objective and measures it as this row",
		e.Display, strings.Join(set, ", "), e.SweepGrid))
}

// runSweep measures row's backend once per configuration of the run's grid
// (each a full harness run with the run's threads, scenario and
// repetitions), chooses one configuration and composes the per-section
// composite (sweep.Run).
func runSweep(ctx context.Context, o Options, m models.Resolved, sc harness.Scenario, row *opened,
	host report.Host, flags string, progressW io.Writer) (*sweep.Sweep, error) {
	grid := o.Grids[row.name]
	configs := grid.Configs()
	i := 0
	s, err := sweep.Run(ctx, row.name, grid, o.Threads, func(ctx context.Context, c sweep.Config) (*report.Report, error) {
		i++
		fmt.Fprintf(progressW, "fakbench: sweep %s %d/%d: %s\n", row.name, i, len(configs), c.Name)
		cfgRow := &opened{name: row.name, label: row.name + "[" + c.Name + "]", kind: row.kind, profile: row.profile,
			extra: c.Extra, started: time.Now()}
		if !o.isolated() {
			b, err := openRow(ctx, o, m, cfgRow)
			if err != nil {
				return nil, fmt.Errorf("open: %w", err)
			}
			cfgRow.backend = b
			defer b.Close()
		}
		rep := measure(ctx, o, m, sc, cfgRow, host, flags, progressW, nil)
		rep.RowLabel = "" // the configuration is in the sweep file; the row is the backend's
		rep.Notes = append(rep.Notes, "sweep configuration "+c.Name)
		return rep, nil
	})
	if s != nil {
		s.Model = m.Spec
	}
	return s, err
}

// baseReport fills the facts every row carries, run or not.
func baseReport(o Options, m models.Resolved, row *opened) *report.Report {
	r := &report.Report{
		Model:   m.Name,
		Backend: row.name,
		Mode:    "live_prefix_reuse",
		Profile: row.profile,
	}
	r.SchemaVersion = report.SchemaVersion
	// Nothing was compared yet: -1, never 0 (a divergence at the first token).
	r.WarmChangedSuffix.FirstDivergence, r.EditedStable.FirstDivergence = report.NoDivergence, report.NoDivergence
	r.RowKind = row.kind
	r.RowLabel = row.label
	r.Threads = o.Threads
	r.Repetitions = o.Reps
	r.Warmup = o.Warmup
	r.Short = o.Short
	r.ModelSpec = o.ModelSpec
	r.ModelDigest = m.Digest
	r.Command = o.Command
	return r
}

// rowKind labels a row per the tuned-reference policy, from the backend's
// registered role: a tuned reference (llama.cpp, OpenVINO, any incumbent)
// run with the tuned profile is a tuned reference, with the untuned profile
// an untuned row; the in-repo kernel is the kernel row, and with the
// untuned profile an ablation.
func rowKind(backend, profile string) string {
	role := adapters.RoleReference
	if e, err := adapters.Lookup(backend); err == nil {
		role = e.Role
	}
	if role == adapters.RoleKernel {
		if profile == "untuned" {
			return report.KindAblation
		}
		return report.KindKernel
	}
	if profile == "untuned" {
		return report.KindUntuned
	}
	return report.KindTunedReference
}

// measure runs the scenarios on a row: in its child process when the run
// is isolated, else on its opened backend (runOne).
func measure(ctx context.Context, o Options, m models.Resolved, sc harness.Scenario, row *opened,
	host report.Host, flags string, progressW io.Writer, yield func()) *report.Report {
	if o.isolated() {
		return measureInChild(ctx, o, m, sc, row, host, flags, progressW, yield)
	}
	return runOne(ctx, o, m, sc, row, host, flags, progressW, yield)
}

// logitTolerance is the backend's registered warm-against-cold logit
// tolerance (0 when it states none: the harness's default).
func logitTolerance(name string) float64 {
	if e, err := adapters.Lookup(name); err == nil {
		return e.LogitTolerance
	}
	return 0
}

// runOne runs the scenarios on one opened backend and completes its report.
//
// yield, when not nil, is the interleaving hand-over (harness.Config.Yield);
// the progress is then printed as lines, since several rows advance at once.
func runOne(ctx context.Context, o Options, m models.Resolved, sc harness.Scenario, row *opened,
	host report.Host, flags string, progressW io.Writer, yield func()) *report.Report {
	b := row.backend
	name := row.display()
	fmt.Fprintf(progressW, "fakbench run: %s: running scenarios (%d reps, %d warm-up)\n", name, o.Reps, o.Warmup)
	start := time.Now()
	mode := progress.Auto
	switch {
	case o.Quiet:
		mode = progress.Quiet
	case yield != nil:
		mode = progress.Lines
	}
	bar := progress.New(progressW, mode, "fakbench run: "+name, len(harness.Steps))
	warmup := o.Warmup
	if warmup == 0 {
		warmup = -1 // harness: 0 means its default, negative means none
	}
	rep, err := harness.Run(ctx, b, sc, harness.Config{
		Reps: o.Reps, Warmup: warmup, Short: o.Short, Threads: o.Threads, GoRuntime: onGoHeap(row.name),
		Progress: bar.Func(), Yield: yield, Base: baseReport(o, m, row), LogitTolerance: logitTolerance(row.name),
	})
	bar.Done()
	if err != nil && rep.Status != report.StatusInterrupted {
		rep.Status = report.StatusFailed
		fmt.Fprintf(progressW, "fakbench run: %s failed: %v\n", name, err)
	}
	if rep.BackendVersion == "" {
		rep.BackendVersion = b.Version()
	}
	if rep.Settings == nil {
		rep.Settings = b.Settings()
	}
	if rev := o.Revision; rev != "" {
		rep.Settings["fakbench_revision"] = rev
	}
	if rep.ModelInfo != nil {
		rep.ModelInfo.FileBytes = m.Size
	}
	if rep.TokenDigest == "" {
		rep.TokenDigest = sc.Digest()
	}
	if rep.Scenario == nil {
		rep.Scenario = sc.Shape()
	}
	rep.BuildFlags = flags
	if bf := rep.Settings["build_flags"]; bf != "" && bf != flags {
		rep.BuildFlags = flags + "; backend: " + bf
	}
	rep.Isolation = IsolationInProcess
	if o.isolated() {
		rep.Isolation = IsolationProcess
	}
	rep.Oversubscribed = o.Oversubscribe
	checkKV(rep, m.Path, b.Info().ContextLength)
	addRoofline(rep, m.DecodeBytes, host)
	if isa, ok := rep.Settings["isa"]; ok {
		rep.CPUFeaturesUnused = report.UnusedFeatures(&host, isa)
	} else {
		rep.Notes = append(rep.Notes, "the backend does not say which CPU features its code uses (no settings.isa), so the unused ones are not listed")
	}
	if rep.StartedAt == "" {
		rep.StartedAt = row.started.UTC().Format(time.RFC3339Nano)
	}
	if rep.FinishedAt == "" {
		rep.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
	}
	fmt.Fprintf(progressW, "fakbench run: %s %s in %s\n", name, rep.Status, time.Since(start).Round(time.Millisecond))
	return rep
}

// addRoofline sets the decode roofline: the tokens per second the node's
// memory bandwidth allows when every token reads the weights once, and the
// fraction of it the backend reached. weightBytes comes from the model file
// (models.Resolved.DecodeBytes), not from the backend, so every row of a run
// is held to the same roofline.
func addRoofline(rep *report.Report, weightBytes int64, host report.Host) {
	if host.MemBWGBs <= 0 || weightBytes <= 0 {
		return
	}
	rep.Decode.WeightBytesRead = weightBytes
	rep.Decode.RooflineTPS = host.MemBWGBs * 1e9 / float64(weightBytes)
	if rep.Decode.TokensPerSec > 0 {
		rep.Decode.RooflineFrac = rep.Decode.TokensPerSec / rep.Decode.RooflineTPS
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf(
		"decode roofline: memory bandwidth %.1f GB/s over %d weight bytes read per token = %.1f tok/s (KV-cache reads not counted)",
		host.MemBWGBs, weightBytes, rep.Decode.RooflineTPS))
}

// measureHost collects the host facts and the memory bandwidth for the
// decode roofline: --membw when given, none when negative, else measured
// (host.MeasureMemBandwidth, as the node bench does: the median of 5
// single passes, every pass kept in the host record).
func measureHost(o Options, cmd string, logw io.Writer) report.Host {
	h := report.NewHost(host.Collect())
	switch {
	case o.MemBW > 0:
		h.MemBWGBs, h.MemBWStatistic = o.MemBW, report.GivenBandwidth
	case o.MemBW == 0:
		b := host.MeasureMemBandwidth(host.BandwidthBytes(o.Short), o.Threads)
		h.SetBandwidth(b)
		fmt.Fprintf(logw, "fakbench %s: memory bandwidth %.1f GB/s (copy of %d MiB on %d threads, %s: %.1f)\n",
			cmd, b.GBs, b.Bytes>>20, b.Threads, b.Statistic, b.SamplesGBs)
	}
	return h
}

// AblationNames lists the ablation names of every registered backend,
// sorted, for flag help.
func AblationNames() []string { return ablationNames(entries(adapters.Names())) }

// Sweepable lists the registered backends that have a default sweep grid,
// sorted.
func Sweepable() []string { return registered(hasSweep, false) }
