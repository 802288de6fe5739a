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

	p := ParityOptions{Steps: 1, Prompt: 1}
	require.NoError(t, p.Check())
	for want, bad := range map[string]ParityOptions{
		"--steps must be at least 1":     {Prompt: 1},
		"--threads must not be":          {Steps: 1, Prompt: 1, Threads: -1},
		"--prompt must be at least 1":    {Steps: 1},
		"--min-cosine must be in [0, 1]": {Steps: 1, Prompt: 1, MinCosine: 2},
		"--max-diff must not be":         {Steps: 1, Prompt: 1, MaxDiff: -1},
	} {
		err := bad.Check()
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}
