package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness"
)

func TestOptionsCheck(t *testing.T) {
	ok := Options{ModelSpec: "synthetic:tiny", Out: "dir"}
	require.NoError(t, ok.Check(false, "the reports"))
	for want, o := range map[string]Options{
		"missing --model": {Out: "dir"},
		"missing --out (the directory for the reports)": {ModelSpec: "m"},
		"--threads -1": {ModelSpec: "m", Out: "d", Threads: -1},
		"--warmup -1":  {ModelSpec: "m", Out: "d", Warmup: -1},
		"--ctx -1":     {ModelSpec: "m", Out: "d", CtxLen: -1},
	} {
		err := o.Check(false, "the reports")
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
	err := ok.Check(true, "the reports")
	require.Error(t, err, "reps given as 0")
	assert.Contains(t, err.Error(), "--reps 0")
}

func TestOptionsCheckRunAndBackends(t *testing.T) {
	o := Options{Backends: []string{"gokernel"}, Profile: "tuned", Schedule: harness.ScheduleInterleaved}
	require.NoError(t, o.CheckRun())
	require.NoError(t, o.CheckBackends())
	for want, bad := range map[string]Options{
		"--backends is empty": {Profile: "tuned", Schedule: harness.ScheduleInterleaved},
		"--profile \"fast\"":  {Backends: []string{"gokernel"}, Profile: "fast", Schedule: harness.ScheduleInterleaved},
		"--schedule \"x\"":    {Backends: []string{"gokernel"}, Profile: "tuned", Schedule: "x"},
	} {
		err := bad.CheckRun()
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
	for want, bad := range map[string]Options{
		"names \"gokernel\" twice":     {Backends: []string{"gokernel", "gokernel"}},
		"--backends: ":                 {Backends: []string{"nope"}},
		"--require names \"llamacpp\"": {Backends: []string{"gokernel"}, Require: []string{"llamacpp"}},
	} {
		err := bad.CheckBackends()
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}

func TestBatchReplayParityChecks(t *testing.T) {
	b := BatchOptions{Backends: []string{"gokernel"}, ModelSpec: "m", Out: "d"}
	require.NoError(t, b.Check())
	for want, bad := range map[string]BatchOptions{
		"--model and --out are required": {Backends: []string{"gokernel"}, Out: "d"},
		"--backends is empty":            {ModelSpec: "m", Out: "d"},
		"must be >= 0":                   {Backends: []string{"gokernel"}, ModelSpec: "m", Out: "d", Steps: -1},
		"--backends: ":                   {Backends: []string{"nope"}, ModelSpec: "m", Out: "d"},
	} {
		err := bad.Check()
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}

	r := ReplayOptions{Backends: []string{"gokernel"}, ModelSpec: "m", Out: "d"}
	require.NoError(t, r.Check())
	r.CtxLen = -1
	err := r.Check()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--threads, --reps and --ctx must be >= 0")

	good := ParityOptions{ModelSpec: "m.gguf", Backends: [2]string{"gokernel", "llamacpp"}, Steps: 1, Prompt: 1}
	require.NoError(t, good.Check())
	for want, change := range map[string]func(*ParityOptions){
		"missing --model":                 func(p *ParityOptions) { p.ModelSpec = "" },
		"--backends names gokernel twice": func(p *ParityOptions) { p.Backends[1] = "gokernel" },
		`unknown backend "nope"`:          func(p *ParityOptions) { p.Backends[1] = "nope" },
		"--steps must be at least 1":      func(p *ParityOptions) { p.Steps = 0 },
		"--threads must not be":           func(p *ParityOptions) { p.Threads = -1 },
		"--prompt must be at least 1":     func(p *ParityOptions) { p.Prompt = 0 },
		"--min-cosine must be in [0, 1]":  func(p *ParityOptions) { p.MinCosine = 2 },
		"--max-diff must not be":          func(p *ParityOptions) { p.MaxDiff = -1 },
	} {
		bad := good
		change(&bad)
		err := bad.Check()
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}
