package harness

import (
	"runtime/debug"
	"time"

	"github.com/fakbench/fakbench/report"
)

// MemorySource is report.Memory.Source: where the figures come from and
// what was done before the decode session opened.
const MemorySource = "/proc/self/status (VmRSS, RssAnon) of the process that ran the backend, read between calls; before the decode section's session opened, the process returned its Go heap's free memory to the operating system (runtime/debug.FreeOSMemory), so that the session's growth is its own"

// startPhases reads the memory with the model loaded, before any session,
// and starts the Go runtime's probe (Config.GoRuntime).
func (r *runner) startPhases() {
	if r.cfg.GoRuntime {
		r.gop = newGoProbe()
	}
	pm, err := ReadProcMem()
	if err != nil {
		r.note("memory per phase not measured: %v", err)
		return
	}
	r.mem = &report.Memory{Source: MemorySource, RSSAfterLoadMB: MiB(pm.RSS)}
}

// finishPhases puts the memory and the Go runtime's facts in the report.
func (r *runner) finishPhases() {
	r.rep.Memory = r.mem
	if r.gop != nil {
		r.rep.GoRuntime = r.gop.finish()
	}
}

// readMem reads the memory, or reports false (and notes why, once).
func (r *runner) readMem(phase string) (ProcMem, bool) {
	if r.mem == nil {
		return ProcMem{}, false
	}
	pm, err := ReadProcMem()
	if err != nil {
		r.note("memory %s not measured: %v", phase, err)
		return ProcMem{}, false
	}
	return pm, true
}

// beforeDecodeSession returns the Go heap's free memory to the operating
// system and reads the anonymous resident memory the decode session's
// growth is measured from.
func (r *runner) beforeDecodeSession() {
	if r.mem == nil {
		return
	}
	debug.FreeOSMemory()
	if pm, ok := r.readMem("before the decode session"); ok {
		r.mem.AnonBeforeSessionMB = MiB(pm.Anon)
	}
}

// afterDecodePrefill reads the memory after the decode session's first
// prefill.
func (r *runner) afterDecodePrefill() {
	if pm, ok := r.readMem("after prefill"); ok {
		r.mem.RSSAfterPrefillMB, r.mem.AnonAfterPrefillMB = MiB(pm.RSS), MiB(pm.Anon)
	}
}

// afterDecode reads the memory after the decode session's last decode,
// holding positions positions.
func (r *runner) afterDecode(positions int) {
	if pm, ok := r.readMem("at the end of decode"); ok {
		r.mem.RSSEndOfDecodeMB, r.mem.AnonEndOfDecodeMB = MiB(pm.RSS), MiB(pm.Anon)
		r.mem.Positions = positions
	}
}

// gcSnap reads the Go runtime's counters when they are recorded and the
// repetition is kept, else returns nil.
func (r *runner) gcSnap(kept bool) *gcSnap {
	if r.gop == nil || !kept {
		return nil
	}
	s := r.gop.snap()
	return &s
}

// gcPrefill ends a kept prefill span begun at g0, of tokens tokens.
func (r *runner) gcPrefill(g0 *gcSnap, tokens int) {
	if g0 != nil {
		r.gop.add(&r.gop.rep.Prefill, *g0, r.gop.snap(), tokens)
	}
}

// gcSessionOpen ends the decode session's opening, begun at g0.
func (r *runner) gcSessionOpen(g0 *gcSnap) {
	if g0 != nil {
		r.gop.add(&r.gop.rep.SessionOpen, *g0, r.gop.snap(), 0)
	}
}

// gcDecode ends a kept decode repetition begun at g0, whose tokens ended
// at at[1:] (at[0] its start).
func (r *runner) gcDecode(g0 *gcSnap, at []time.Time) {
	if g0 != nil {
		r.gop.decodeRep(*g0, r.gop.snap(), at)
	}
}
