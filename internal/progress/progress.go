// Package progress shows how far a long step has got: a bar with an ETA on
// a terminal, plain timestamped lines when the output is a file or a pipe
// (CI logs), and nothing at all in quiet mode.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Mode selects how progress is shown.
type Mode int

// The modes.
const (
	// Auto picks Bar when the writer is a terminal and Lines otherwise.
	Auto Mode = iota
	// Bar draws a progress bar with an ETA.
	Bar
	// Lines prints one plain line per step.
	Lines
	// Quiet prints nothing.
	Quiet
)

// Reporter shows the progress of one task made of counted steps. It is
// safe for concurrent use. The zero value is not usable; use New.
type Reporter struct {
	mu    sync.Mutex
	w     io.Writer
	mode  Mode
	task  string
	total int
	bar   *progressbar.ProgressBar
	start time.Time
	now   func() time.Time
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New starts a reporter for task with total steps (0 when unknown).
func New(w io.Writer, mode Mode, task string, total int) *Reporter {
	if mode == Auto {
		mode = Lines
		if IsTerminal(w) {
			mode = Bar
		}
	}
	r := &Reporter{w: w, mode: mode, task: task, total: total, now: time.Now}
	r.start = r.now()
	if mode == Bar {
		max := total
		if max <= 0 {
			max = -1 // spinner
		}
		r.bar = progressbar.NewOptions(max,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(task),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return r
}

// Step reports that step (a short description) is starting and that done
// of the total steps are finished.
func (r *Reporter) Step(step string, done int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.mode {
	case Bar:
		r.bar.Describe(r.task + ": " + step)
		_ = r.bar.Set(done)
	case Lines:
		now := r.now()
		spent := now.Sub(r.start)
		if r.total > 0 {
			eta := ""
			if done > 0 && done < r.total {
				left := time.Duration(float64(spent) / float64(done) * float64(r.total-done))
				eta = fmt.Sprintf(", ETA %s", left.Round(time.Second))
			}
			fmt.Fprintf(r.w, "[%s] %s: %s (%d/%d, %s elapsed%s)\n", now.Format("15:04:05"), r.task, step, done, r.total, spent.Round(time.Second), eta)
		} else {
			fmt.Fprintf(r.w, "[%s] %s: %s (%s elapsed)\n", now.Format("15:04:05"), r.task, step, spent.Round(time.Second))
		}
	}
}

// Func adapts the reporter to callbacks of the form the harness takes:
// func(step string, done, total int).
func (r *Reporter) Func() func(step string, done, total int) {
	return func(step string, done, total int) {
		if r == nil {
			return
		}
		r.mu.Lock()
		if total > 0 && total != r.total {
			r.total = total
			if r.bar != nil {
				r.bar.ChangeMax(total)
			}
		}
		r.mu.Unlock()
		r.Step(step, done)
	}
}

// Done finishes the task, printing its total time in Lines mode.
func (r *Reporter) Done() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.mode {
	case Bar:
		_ = r.bar.Finish()
	case Lines:
		now := r.now()
		fmt.Fprintf(r.w, "[%s] %s: done in %s\n", now.Format("15:04:05"), r.task, now.Sub(r.start).Round(time.Millisecond))
	}
}
