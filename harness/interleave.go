package harness

import (
	"fmt"
	"runtime/debug"
)

// Interleave runs several measurements one step at a time each, so that a
// drift of the node (another tenant, thermal or frequency changes, the page
// cache) lands on every row alike instead of on whichever backend happened
// to run its whole suite at the time.
//
// Each of fns runs in its own goroutine but only one runs at any moment: a
// function runs until it calls the yield function it was given (or
// returns), then the next one runs. Work proceeds in rounds: in every round
// each unfinished function gets one step, and the order rotates by one
// position per round (round 0 runs 0, 1, 2; round 1 runs 1, 2, 0; ...), so
// no backend always runs first after the others. Nothing a function
// measures spans a yield, so the switching itself costs nothing measured;
// harness.Run yields before every section and every repetition when
// Config.Yield is set.
//
// Interleave returns when every function has returned. A function that
// panics is stopped there; its panic is returned as an error in the
// function's slot and the others go on.
func Interleave(fns []func(yield func())) (Schedule, []error) {
	n := len(fns)
	errs := make([]error, n)
	type event struct {
		id   int
		done bool
	}
	events := make(chan event)
	wakes := make([]chan struct{}, n)
	for i := range fns {
		wakes[i] = make(chan struct{})
		go func(i int) {
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("harness: interleaved run %d panicked: %v\n%s", i, p, debug.Stack())
				}
				events <- event{id: i, done: true}
			}()
			<-wakes[i]
			fns[i](func() {
				events <- event{id: i}
				<-wakes[i]
			})
		}(i)
	}

	sched := Schedule{Mode: ScheduleInterleaved, Rows: n}
	active := make([]int, n)
	for i := range active {
		active[i] = i
	}
	for round := 0; len(active) > 0; round++ {
		k := round % len(active)
		order := append(append([]int(nil), active[k:]...), active[:k]...)
		finished := map[int]bool{}
		for _, id := range order {
			wakes[id] <- struct{}{}
			ev := <-events // only id is running, so the event is its own
			sched.Steps++
			if ev.done {
				finished[id] = true
			}
		}
		if round < firstRounds {
			sched.FirstRounds = append(sched.FirstRounds, order)
		}
		sched.Rounds++
		kept := active[:0]
		for _, id := range active {
			if !finished[id] {
				kept = append(kept, id)
			}
		}
		active = kept
	}
	return sched, errs
}

// The schedules a run can use (Schedule.Mode).
const (
	// ScheduleInterleaved switches between the backends at every section
	// and repetition, in a rotating order (Interleave).
	ScheduleInterleaved = "interleaved"
	// ScheduleSequential runs each backend's whole suite after the other.
	ScheduleSequential = "sequential"
)

// Schedule records how the rows of a run shared the node.
type Schedule struct {
	// Mode is ScheduleInterleaved or ScheduleSequential.
	Mode string
	// Rows is the number of rows that took turns.
	Rows int
	// Rounds and Steps count the rounds and the steps (a section or a
	// repetition of one row) that were run.
	Rounds, Steps int
	// FirstRounds holds the order of the first rounds (indexes into the
	// functions or rows), to show the rotation.
	FirstRounds [][]int
}

// firstRounds is how many round orders a Schedule keeps.
const firstRounds = 3
