package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/harness/sweep"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// Where a row's backend runs (Options.Isolation, the report's isolation).
//
// In IsolationProcess every row runs in a child process of the fakbench
// binary (Options.Exe run as "fakbench row-child"): the child opens the
// backend and runs the whole harness on it, so every timing is taken inside
// the child and the pipe costs nothing measured. A native abort, a signal,
// or a child that says nothing for Options.HangAfter becomes that row's
// failure, with the signal and the child's last output lines, and the
// other rows go on; the child runs in its own process group and is always
// killed and reaped. Each row's peak_rss_mb is its child's own peak, read
// by the child and sent back in its report (peakrss.go).
//
// IsolationInProcess runs the backends inside this process (tests, and
// callers without an executable to start).
const (
	IsolationProcess   = "process"
	IsolationInProcess = "in_process"
)

// ChildCommand is the hidden subcommand that serves one row (ServeRow).
const ChildCommand = "row-child"

// DefaultHangAfter is how long a row's child may run without a word (a
// section or repetition ends with one) before it is called hung and
// killed.
const DefaultHangAfter = 15 * time.Minute

// childGrace is how long an interrupted child gets to write its partial
// report before it is killed.
const childGrace = 10 * time.Second

// childTailLines is how many of a child's last output lines a failure
// quotes.
const childTailLines = 12

// childRequest is what the parent sends a row's child, as the first JSON
// value on its stdin.
type childRequest struct {
	// Probe opens the backend (and once per Configs entry, a sweep's
	// configurations), answers its model info and exits; otherwise the
	// child runs the scenario and answers the report.
	Probe   bool            `json:"probe,omitempty"`
	Configs []sweep.Config  `json:"configs,omitempty"`
	Row     childRow        `json:"row"`
	Opts    childOpts       `json:"options"`
	Model   models.Resolved `json:"model"`
	// Scenario is the run's plan; Digest its token-ID digest, checked.
	Scenario harness.ScenarioParams `json:"scenario"`
	Digest   string                 `json:"digest,omitempty"`
	Host     report.Host            `json:"host"`
	Flags    string                 `json:"flags,omitempty"`
}

type childRow struct {
	Name    string            `json:"name"`
	Label   string            `json:"label,omitempty"`
	Kind    string            `json:"kind,omitempty"`
	Profile string            `json:"profile,omitempty"`
	Extra   map[string]string `json:"extra,omitempty"`
}

type childOpts struct {
	Threads   int    `json:"threads"`
	Reps      int    `json:"reps"`
	Warmup    int    `json:"warmup"`
	CtxLen    int    `json:"ctx,omitempty"`
	Short     bool   `json:"short,omitempty"`
	Quiet     bool   `json:"quiet,omitempty"`
	ModelSpec string `json:"model_spec,omitempty"`
	Command   string `json:"command,omitempty"`
	Revision  string `json:"revision,omitempty"`
	Oversub   bool   `json:"oversubscribe,omitempty"`
}

// childMsg is one JSON value the child writes on its result pipe (fd 3):
// "yield" (a section or repetition is about to start; the parent answers
// with a go when it is the row's turn), then one of "info", "report" or
// "error".
type childMsg struct {
	Type   string               `json:"type"`
	Info   *transport.ModelInfo `json:"info,omitempty"`
	Report *report.Report       `json:"report,omitempty"`
	Err    *childErr            `json:"error,omitempty"`
}

// childErr carries an open error across the pipe with its kind, so the
// parent tells an unavailable backend and a bad model file from a failure.
type childErr struct {
	Kind    string   `json:"kind"` // unavailable, bad_model, other
	Msg     string   `json:"msg"`
	Backend string   `json:"backend,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Tried   []string `json:"tried,omitempty"`
	File    string   `json:"file,omitempty"`
}

func encodeErr(err error) *childErr {
	var ue *transport.UnavailableError
	var be *transport.BadModelError
	switch {
	case errors.As(err, &ue):
		return &childErr{Kind: "unavailable", Msg: err.Error(), Backend: ue.Backend, Reason: ue.Reason, Tried: ue.Tried}
	case errors.As(err, &be):
		return &childErr{Kind: "bad_model", Msg: err.Error(), File: be.File, Reason: be.Reason}
	}
	return &childErr{Kind: "other", Msg: err.Error()}
}

// decode rebuilds the error with its type; its message is the child's.
func (e *childErr) decode() error {
	switch e.Kind {
	case "unavailable":
		return &transport.UnavailableError{Backend: e.Backend, Reason: e.Reason, Tried: e.Tried}
	case "bad_model":
		inner := strings.TrimPrefix(e.Msg, (&transport.BadModelError{File: e.File, Reason: e.Reason}).Error())
		var err error
		if inner = strings.TrimPrefix(inner, ": "); inner != "" {
			err = errors.New(inner)
		}
		return &transport.BadModelError{File: e.File, Reason: e.Reason, Err: err}
	}
	return errors.New(e.Msg)
}

func (o Options) isolated() bool { return o.Isolation == IsolationProcess }

func (o Options) hangAfter() time.Duration {
	if o.HangAfter > 0 {
		return o.HangAfter
	}
	return DefaultHangAfter
}

func newChildRequest(o Options, m models.Resolved, row *opened) childRequest {
	return childRequest{
		Row: childRow{Name: row.name, Label: row.label, Kind: row.kind, Profile: row.profile, Extra: row.extra},
		Opts: childOpts{Threads: o.Threads, Reps: o.Reps, Warmup: o.Warmup, CtxLen: o.CtxLen, Short: o.Short,
			Quiet: o.Quiet, ModelSpec: o.ModelSpec, Command: o.Command, Revision: o.Revision, Oversub: o.Oversubscribe},
		Model: m,
	}
}

// ServeChild is the whole of "fakbench row-child": the request on stdin,
// the answer on file descriptor 3 (which the parent opens), progress and
// native output on logw.
func ServeChild(ctx context.Context, logw io.Writer) error {
	results := os.NewFile(3, "results")
	if _, err := results.Stat(); err != nil {
		return fmt.Errorf("file descriptor 3 is not open (fakbench run starts this command): %w", err)
	}
	defer results.Close()
	return ServeRow(ctx, os.Stdin, results, logw)
}

// ServeRow is the child's side ("fakbench row-child"): it reads the
// request from in, opens the backend, probes it or runs the scenario on it
// with the harness, and writes the answer to results. Progress and the
// backend's own output go to logw, which the parent relays.
func ServeRow(ctx context.Context, in io.Reader, results io.Writer, logw io.Writer) error {
	dec := json.NewDecoder(in)
	enc := json.NewEncoder(results)
	var req childRequest
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("row-child: reading the request: %w", err)
	}
	o := Options{Threads: req.Opts.Threads, Reps: req.Opts.Reps, Warmup: req.Opts.Warmup, CtxLen: req.Opts.CtxLen,
		Short: req.Opts.Short, Quiet: req.Opts.Quiet, ModelSpec: req.Opts.ModelSpec, Command: req.Opts.Command,
		Revision: req.Opts.Revision, Oversubscribe: req.Opts.Oversub, Log: logw, Errs: logw, Isolation: IsolationProcess}
	row := &opened{name: req.Row.Name, label: req.Row.Label, kind: req.Row.Kind, profile: req.Row.Profile,
		extra: req.Row.Extra, started: time.Now()}
	// The child's address space is its own since its exec: its peak is the
	// row's even when the reset fails.
	peakErr := startPeakRSS()
	b, err := openRow(ctx, o, req.Model, row)
	if err != nil {
		return enc.Encode(childMsg{Type: "error", Err: encodeErr(err)})
	}
	if req.Probe {
		info := b.Info()
		_ = b.Close()
		for _, c := range req.Configs {
			cb, err := openBackend(ctx, o, req.Model, row.name, row.profile, c.Extra)
			if err != nil {
				return enc.Encode(childMsg{Type: "error", Err: encodeErr(fmt.Errorf("configuration %s: %w", c.Name, err))})
			}
			_ = cb.Close()
		}
		return enc.Encode(childMsg{Type: "info", Info: &info})
	}
	defer b.Close()
	row.backend = b
	sc, err := harness.BuildScenario(req.Scenario)
	if err == nil && sc.Digest() != req.Digest {
		err = fmt.Errorf("the scenario rebuilt in the child has token-ID digest %s, the parent's is %s", sc.Digest(), req.Digest)
	}
	if err != nil {
		return enc.Encode(childMsg{Type: "error", Err: encodeErr(err)})
	}
	var pipeErr error
	yield := func() {
		if pipeErr != nil {
			return
		}
		if pipeErr = enc.Encode(childMsg{Type: "yield"}); pipeErr == nil {
			var turn struct {
				Go bool `json:"go"`
			}
			pipeErr = dec.Decode(&turn)
		}
	}
	rep := runOne(ctx, o, req.Model, sc, row, req.Host, req.Flags, logw, yield)
	setPeakRSS(rep, peakErr, true)
	if pipeErr != nil {
		return fmt.Errorf("row-child: the parent went away: %w", pipeErr)
	}
	return enc.Encode(childMsg{Type: "report", Report: rep})
}

// crashLine picks the line of a dying process's output that says why
// (a failed native assertion, the signal, a Go panic).
var crashLine = regexp.MustCompile(`GGML_ASSERT|GGML_ABORT|Assertion|terminate called|SIGABRT|SIGSEGV|SIGBUS|SIGILL|^panic:|^fatal error:`)

// goSignal is the Go runtime's line for a fatal signal ("SIGABRT: abort"),
// printed when a signal raised in native code ends the process.
var goSignal = regexp.MustCompile(`^SIG[A-Z]+: `)

// tail keeps the last lines written to it, the first that says why a
// process died and the fatal signal the Go runtime reported, and relays
// every line to w.
type tail struct {
	mu     sync.Mutex
	w      io.Writer
	lines  []string
	cause  string
	signal string
}

func (t *tail) relay(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t.mu.Lock()
		fmt.Fprintln(t.w, line)
		t.lines = append(t.lines, line)
		if t.cause == "" && crashLine.MatchString(line) {
			t.cause = line
		}
		if t.signal == "" && goSignal.MatchString(line) {
			t.signal = line
		}
		if len(t.lines) > childTailLines {
			t.lines = t.lines[len(t.lines)-childTailLines:]
		}
		t.mu.Unlock()
	}
}

func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "(the child printed nothing)"
	}
	s := strings.Join(t.lines, " | ")
	if t.cause != "" {
		s = "[" + t.cause + "] ... " + s
	}
	return s
}

// childOutcome is what a row's child left: its answer (nil when it died
// first) and why it failed when it did.
type childOutcome struct {
	msg *childMsg
	err error
}

// runChild starts a row's child with req, relays its output to logw,
// answers its yields through yield (nil: at once), and returns its answer.
// It kills the child's process group when ctx ends (after childGrace, to
// let it report what it measured) or when the child is silent for
// hangAfter.
func runChild(ctx context.Context, o Options, req childRequest, yield func(), logw io.Writer) childOutcome {
	name := req.Row.Label
	if name == "" {
		name = req.Row.Name
	}
	if o.Exe == "" {
		return childOutcome{err: fmt.Errorf("%s: process isolation needs the fakbench executable (Options.Exe)", name)}
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		return childOutcome{err: fmt.Errorf("%s: result pipe: %w", name, err)}
	}
	defer resR.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		resW.Close()
		return childOutcome{err: fmt.Errorf("%s: output pipe: %w", name, err)}
	}
	cmd := exec.Command(o.Exe, ChildCommand)
	cmd.Stdout, cmd.Stderr = outW, outW
	cmd.ExtraFiles = []*os.File{resW} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	resW.Close()
	outW.Close()
	if err != nil {
		outR.Close()
		return childOutcome{err: fmt.Errorf("%s: starting %s %s: %w", name, o.Exe, ChildCommand, err)}
	}
	t := &tail{w: logw}
	relayed := make(chan struct{})
	go func() { t.relay(outR); outR.Close(); close(relayed) }()

	// The watchdog: a deadline re-armed on every message, and the context.
	var mu sync.Mutex
	deadline := time.Now().Add(o.hangAfter())
	why := ""
	kill := func(sig syscall.Signal, reason string) {
		mu.Lock()
		if why == "" {
			why = reason
		}
		mu.Unlock()
		_ = syscall.Kill(-cmd.Process.Pid, sig)
	}
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		var cancelled time.Time
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			mu.Lock()
			hung := time.Now().After(deadline)
			mu.Unlock()
			switch {
			case hung:
				kill(syscall.SIGKILL, fmt.Sprintf("hung: no word from the backend's process for %s (killed)", o.hangAfter()))
			case ctx.Err() != nil && cancelled.IsZero():
				cancelled = time.Now()
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			case !cancelled.IsZero() && time.Since(cancelled) > childGrace:
				kill(syscall.SIGKILL, fmt.Sprintf("interrupted: the backend's process did not stop within %s (killed)", childGrace))
			}
		}
	}()

	var out childOutcome
	if err := json.NewEncoder(stdin).Encode(req); err != nil {
		kill(syscall.SIGKILL, "could not send the request: "+err.Error())
	}
	dec := json.NewDecoder(resR)
	for out.msg == nil {
		var m childMsg
		if err := dec.Decode(&m); err != nil {
			break // the child ended; Wait says how
		}
		if m.Type != "yield" {
			out.msg = &m
			break
		}
		mu.Lock()
		deadline = time.Now().Add(365 * 24 * time.Hour) // waiting for its turn is not hanging
		mu.Unlock()
		if yield != nil {
			yield()
		}
		mu.Lock()
		deadline = time.Now().Add(o.hangAfter())
		mu.Unlock()
		if err := json.NewEncoder(stdin).Encode(map[string]bool{"go": true}); err != nil {
			break
		}
	}
	stdin.Close()
	if out.msg != nil {
		// The answer is in: the child exits by itself; a native library
		// that hangs in its teardown is not the row's fault.
		mu.Lock()
		deadline = time.Now().Add(childGrace)
		mu.Unlock()
	}
	werr := cmd.Wait()
	close(stop)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever it forked
	<-relayed
	if out.msg != nil {
		return out
	}
	mu.Lock()
	reason := why
	mu.Unlock()
	if reason == "" {
		reason = "the backend's process ended without a result: " + exitDescription(cmd.ProcessState, werr)
		t.mu.Lock()
		if t.signal != "" {
			reason += " after " + t.signal
		}
		t.mu.Unlock()
	}
	out.err = fmt.Errorf("%s: %s; its last output: %s", name, reason, t.last())
	return out
}

// exitDescription says how a process ended: the signal that killed it, or
// its exit status.
func exitDescription(ps *os.ProcessState, werr error) string {
	if ps == nil {
		return fmt.Sprint(werr)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		s := fmt.Sprintf("killed by signal %s (%d)", ws.Signal(), int(ws.Signal()))
		if ws.CoreDump() {
			s += ", core dumped"
		}
		return s
	}
	return fmt.Sprintf("exit status %d", ps.ExitCode())
}

// probeInChild opens a row's backend in a child (and a sweep's
// configurations) and returns its model info or the typed open error.
func probeInChild(ctx context.Context, o Options, m models.Resolved, row *opened, configs []sweep.Config) (transport.ModelInfo, error) {
	req := newChildRequest(o, m, row)
	req.Probe, req.Configs = true, configs
	out := runChild(ctx, o, req, nil, o.logw())
	switch {
	case out.err != nil:
		return transport.ModelInfo{}, out.err
	case out.msg.Type == "info" && out.msg.Info != nil:
		return *out.msg.Info, nil
	case out.msg.Type == "error" && out.msg.Err != nil:
		return transport.ModelInfo{}, out.msg.Err.decode()
	}
	return transport.ModelInfo{}, fmt.Errorf("%s: the backend's process answered %q to a probe", row.display(), out.msg.Type)
}

// measureInChild runs the scenario on a row in its child and returns the
// row's report: the child's (with the peak memory the child read), or a
// failed report saying how the child failed.
func measureInChild(ctx context.Context, o Options, m models.Resolved, sc harness.Scenario, row *opened,
	host report.Host, flags string, logw io.Writer, yield func()) *report.Report {
	req := newChildRequest(o, m, row)
	req.Scenario, req.Digest, req.Host, req.Flags = sc.Params, sc.Digest(), host, flags
	out := runChild(ctx, o, req, yield, logw)
	var rep *report.Report
	switch {
	case out.err != nil:
		rep = baseReport(o, m, row)
		rep.Status = report.StatusFailed
		if ctx.Err() != nil {
			// Stopped by the interruption, with nothing to show for it.
			rep.Status = report.StatusInterrupted
			rep.NotRun = map[string]string{}
			for _, p := range report.SectionPaths() {
				rep.NotRun[p] = "not run: the run was interrupted and the backend's process reported nothing"
			}
		}
		rep.Notes = append(rep.Notes, "backend process failed: "+out.err.Error())
		fmt.Fprintf(o.errw(), "fakbench run: %v\n", out.err)
	case out.msg.Type == "report" && out.msg.Report != nil:
		rep = out.msg.Report
	default:
		rep = baseReport(o, m, row)
		rep.Status = report.StatusFailed
		msg := "answered " + out.msg.Type
		if out.msg.Err != nil {
			msg = out.msg.Err.decode().Error()
		}
		rep.Notes = append(rep.Notes, "backend process failed: "+msg)
		fmt.Fprintf(o.errw(), "fakbench run: %s: %s\n", row.display(), msg)
	}
	rep.Isolation = IsolationProcess
	return rep
}
