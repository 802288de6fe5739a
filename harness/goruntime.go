package harness

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"time"

	"github.com/fakbench/fakbench/report"
)

// The runtime/metrics read per phase boundary.
const (
	metricGCCycles     = "/gc/cycles/total:gc-cycles"
	metricAllocBytes   = "/gc/heap/allocs:bytes"
	metricAllocObjects = "/gc/heap/allocs:objects"
	metricGOGC         = "/gc/gogc:percent"
	metricMemLimit     = "/gc/gomemlimit:bytes"
)

// OutlierFence is k in the outlier rule: an inter-token latency above
// the third quartile plus k interquartile ranges (Tukey's far-out fence)
// is an outlier.
const OutlierFence = 3.0

// OutlierRule states the rule in words.
const OutlierRule = "an inter-token latency above the third quartile plus 3 interquartile ranges of the row's kept tokens (Tukey's far-out fence)"

// gcSnap is the Go runtime's counters at one instant.
type gcSnap struct {
	cycles, allocBytes, allocObjects uint64
	// pauseTotal and numGC come from runtime.ReadMemStats, which also
	// fills the pause ring the snapshot's reader keeps.
	pauseTotal uint64
	numGC      uint32
}

// gcCycle is one finished GC cycle: when its last stop-the-world pause
// ended (Unix ns, as runtime.MemStats.PauseEnd) and its pauses' sum.
type gcCycle struct {
	end   int64
	pause time.Duration
}

// goProbe reads the Go runtime's counters for one row's run and
// accumulates the report's GoRuntime.
type goProbe struct {
	samples []metrics.Sample
	ms      runtime.MemStats
	rep     *report.GoRuntime
	// itl, bounds and gcs are the kept decode repetitions' inter-token
	// latencies, token end times (bounds[0] the decode's start) and the
	// GC cycles that ended in them, for the outlier analysis.
	itl    [][]float64
	bounds [][]int64
	gcs    [][]gcCycle
}

func newGoProbe() *goProbe {
	p := &goProbe{samples: []metrics.Sample{{Name: metricGCCycles}, {Name: metricAllocBytes}, {Name: metricAllocObjects},
		{Name: metricGOGC}, {Name: metricMemLimit}}}
	metrics.Read(p.samples)
	g := &report.GoRuntime{
		Source: fmt.Sprintf("runtime/metrics (%s, %s, %s) and runtime.ReadMemStats (stop-the-world pauses and when they ended) in process %d, the process that ran the backend; read between calls, outside every timed span",
			metricGCCycles, metricAllocBytes, metricAllocObjects, os.Getpid()),
		GoVersion:     runtime.Version(),
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
		GOGC:          "off",
		GOMEMLIMIT:    "none",
		GOGCEnv:       envOrUnset("GOGC"),
		GOMEMLIMITEnv: envOrUnset("GOMEMLIMIT"),
		OutlierRule:   OutlierRule,
		SessionOpen:   report.GCPhase{What: "NewSession of the decode section (the session's KV cache and scratch buffers)"},
		Prefill:       report.GCPhase{What: "EnsurePrefix and PrefillSuffix of each kept cold_full_prefill repetition (a fresh session's whole prompt)"},
		Decode:        report.GCPhase{What: "the Decode calls of each kept decode repetition"},
	}
	if v := p.samples[3]; v.Value.Kind() == metrics.KindUint64 && int64(v.Value.Uint64()) >= 0 {
		g.GOGC = strconv.FormatUint(v.Value.Uint64(), 10)
	}
	if v := p.samples[4]; v.Value.Kind() == metrics.KindUint64 && v.Value.Uint64() < math.MaxInt64 {
		g.GOMEMLIMIT = strconv.FormatUint(v.Value.Uint64(), 10) + " bytes"
	}
	p.rep = g
	return p
}

func envOrUnset(name string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return "(unset)"
}

// snap reads the counters (it stops the world briefly: call it outside
// timed spans).
func (p *goProbe) snap() gcSnap {
	metrics.Read(p.samples[:3])
	runtime.ReadMemStats(&p.ms)
	u := func(i int) uint64 {
		if p.samples[i].Value.Kind() == metrics.KindUint64 {
			return p.samples[i].Value.Uint64()
		}
		return 0
	}
	return gcSnap{cycles: u(0), allocBytes: u(1), allocObjects: u(2), pauseTotal: p.ms.PauseTotalNs, numGC: p.ms.NumGC}
}

// cycles lists the GC cycles that ended between two snapshots, from the
// pause ring of the latest snap (which must be to's); complete is false
// when more ended than the ring holds (the oldest are missing).
func (p *goProbe) cycles(from, to gcSnap) (out []gcCycle, complete bool) {
	n := int(to.numGC - from.numGC)
	ring := len(p.ms.PauseNs)
	for k := to.numGC - uint32(min(n, ring)) + 1; n > 0 && k <= to.numGC; k++ {
		i := (k - 1) % uint32(ring)
		out = append(out, gcCycle{end: int64(p.ms.PauseEnd[i]), pause: time.Duration(p.ms.PauseNs[i])})
	}
	return out, n <= ring
}

// add sums one span of a phase into ph.
func (p *goProbe) add(ph *report.GCPhase, from, to gcSnap, tokens int) []gcCycle {
	ph.Repetitions++
	ph.Tokens += tokens
	ph.GCCycles += to.cycles - from.cycles
	ph.GCPauseTotalMS += ms(time.Duration(to.pauseTotal - from.pauseTotal))
	ph.HeapAllocBytes += to.allocBytes - from.allocBytes
	ph.HeapAllocObjects += to.allocObjects - from.allocObjects
	cs, _ := p.cycles(from, to)
	for _, c := range cs {
		ph.GCPauseMaxMS = max(ph.GCPauseMaxMS, ms(c.pause))
	}
	return cs
}

// decodeRep records one kept decode repetition: its token end times
// (at[0] the decode's start) between the snapshots from and to.
func (p *goProbe) decodeRep(from, to gcSnap, at []time.Time) {
	cs := p.add(&p.rep.Decode, from, to, len(at)-1)
	bounds := make([]int64, len(at))
	itl := make([]float64, len(at)-1)
	for i, t := range at {
		bounds[i] = t.UnixNano()
		if i > 0 {
			itl[i-1] = ms(t.Sub(at[i-1]))
		}
	}
	p.itl, p.bounds, p.gcs = append(p.itl, itl), append(p.bounds, bounds), append(p.gcs, cs)
}

// finish makes the outlier analysis and the verdict.
func (p *goProbe) finish() *report.GoRuntime {
	g := p.rep
	events, outliers, above := analyzeTokens(p.itl, p.bounds, p.gcs)
	g.OutlierAbove = above
	g.GCTokens = events
	g.Outliers = outliers
	for _, o := range outliers {
		if o.GCCycles > 0 {
			g.OutliersWithGC++
		}
	}
	g.Verdict = goVerdict(g, p.itl)
	return g
}

// analyzeTokens finds, over kept decode repetitions, the tokens in which
// a GC cycle ended and the outliers (OutlierRule), each with the GC cycles
// that ended in it. itl[r][i] is repetition r's token i's latency (ms),
// bounds[r] its token end times in Unix ns with bounds[r][0] the decode's
// start (token i spans (bounds[r][i], bounds[r][i+1]]), and gcs[r] the
// cycles that ended during repetition r. above is the outlier threshold
// (ms; 0 without tokens).
func analyzeTokens(itl [][]float64, bounds [][]int64, gcs [][]gcCycle) (gcTokens, outliers []report.TokenEvent, above float64) {
	all := report.Pooled(itl)
	if len(all) == 0 {
		return nil, nil, 0
	}
	q1, q3 := report.Percentile(all, 25), report.Percentile(all, 75)
	above = q3 + OutlierFence*(q3-q1)
	for r := range itl {
		// The cycles that ended in each token.
		in := map[int][]gcCycle{}
		if r < len(bounds) && r < len(gcs) && len(bounds[r]) == len(itl[r])+1 {
			for _, c := range gcs[r] {
				if i, ok := tokenAt(bounds[r], c.end); ok {
					in[i] = append(in[i], c)
				}
			}
		}
		for i, v := range itl[r] {
			ev := report.TokenEvent{Rep: r, Token: i, MS: v, GCCycles: len(in[i])}
			for _, c := range in[i] {
				ev.GCPauseMS += ms(c.pause)
			}
			if ev.GCCycles > 0 {
				gcTokens = append(gcTokens, ev)
			}
			if v > above {
				outliers = append(outliers, ev)
			}
		}
	}
	return gcTokens, outliers, above
}

// tokenAt returns the token whose span (bounds[i], bounds[i+1]] holds t.
func tokenAt(bounds []int64, t int64) (int, bool) {
	if len(bounds) < 2 || t <= bounds[0] || t > bounds[len(bounds)-1] {
		return 0, false
	}
	i, _ := slices.BinarySearch(bounds, t) // the first bound >= t
	return i - 1, true
}

// goVerdict answers whether the collector shows up in the decode's tail.
func goVerdict(g *report.GoRuntime, itl [][]float64) string {
	tokens := len(report.Pooled(itl))
	d := g.Decode
	if tokens == 0 {
		return "no decode tokens were kept"
	}
	if d.GCCycles == 0 {
		return fmt.Sprintf("no GC cycle ended during the %d kept decode tokens (%s allocated on the Go heap, %.0f B per token), so the collector is not in the decode's tail; %d outlier(s) above %.3f ms",
			tokens, report.FormatBytes(int64(d.HeapAllocBytes)), float64(d.HeapAllocBytes)/float64(tokens), len(g.Outliers), g.OutlierAbove)
	}
	var with, without []float64
	gc := map[[2]int]bool{}
	for _, e := range g.GCTokens {
		gc[[2]int{e.Rep, e.Token}] = true
	}
	for r, rep := range itl {
		for i, v := range rep {
			if gc[[2]int{r, i}] {
				with = append(with, v)
			} else {
				without = append(without, v)
			}
		}
	}
	s := fmt.Sprintf("%d GC cycle(s) ended during the %d kept decode tokens (stop-the-world %.3f ms in total, %.3f ms at most; %s allocated, %.0f B per token); %d token(s) held a cycle's end",
		d.GCCycles, tokens, d.GCPauseTotalMS, d.GCPauseMaxMS, report.FormatBytes(int64(d.HeapAllocBytes)), float64(d.HeapAllocBytes)/float64(tokens), len(g.GCTokens))
	if len(with) > 0 && len(without) > 0 {
		s += fmt.Sprintf(" (their median ITL %.3f ms, the others' %.3f ms)", report.Median(with), report.Median(without))
	}
	s += fmt.Sprintf("; %d of %d outlier(s) above %.3f ms held one", g.OutliersWithGC, len(g.Outliers), g.OutlierAbove)
	if g.OutliersWithGC > 0 {
		s += ": the collector shows in the tail"
	} else {
		s += ": the collector does not show in the tail"
	}
	if n := int(d.GCCycles) - countCycles(g.GCTokens); n > 0 {
		s += fmt.Sprintf("; %d cycle(s) ended outside every token's span or beyond the 256 the runtime keeps", n)
	}
	return s
}

func countCycles(evs []report.TokenEvent) int {
	n := 0
	for _, e := range evs {
		n += e.GCCycles
	}
	return n
}
