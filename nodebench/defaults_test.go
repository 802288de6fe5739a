package nodebench

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/env"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.Defaults()
	assert.Equal(t, DefaultModel, c.Model)
	assert.NotEmpty(t, c.HostLabel)
	assert.NotContains(t, c.HostLabel, ".")
	assert.Positive(t, c.Threads)

	c = Config{Short: true, HostLabel: "node-a", Threads: 3}
	c.Defaults()
	assert.Equal(t, ShortModel, c.Model)
	assert.Equal(t, "node-a", c.HostLabel)
	assert.Equal(t, 3, c.Threads)

	c = Config{Short: true, Model: "synthetic:tiny"}
	c.Defaults()
	assert.Equal(t, "synthetic:tiny", c.Model)
}

func TestSetShortCaps(t *testing.T) {
	t.Setenv(env.WorkloadPrefillCap.Name, "")
	require.NoError(t, os.Unsetenv(env.WorkloadPrefillCap.Name)) // restored by t.Setenv
	t.Setenv(env.WorkloadPromptCap.Name, "40")
	require.NoError(t, SetShortCaps())
	prompt, err := env.WorkloadPromptCap.Int(0)
	require.NoError(t, err)
	assert.Equal(t, 40, prompt, "a cap the environment sets is kept")
	prefill, err := env.WorkloadPrefillCap.Int(0)
	require.NoError(t, err)
	assert.Equal(t, ShortCap, prefill)
}

func TestReadInputs(t *testing.T) {
	w, err := workload.Synthesize(workload.DefaultSynthParams(), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "w.json")
	require.NoError(t, w.Save(path))
	t.Setenv(env.WorkloadPrefillCap.Name, "300")
	t.Setenv(env.WorkloadPromptCap.Name, "")
	t.Setenv(env.BatchWorkload.Name, "1")
	t.Setenv(env.NodeBenchCommand.Name, "scripts/node_bench.sh --short")

	c := Config{WorkloadPath: path, Command: "fakbench node-bench --short"}
	require.NoError(t, c.ReadInputs())
	assert.Equal(t, 300, c.Caps.PrefillCap)
	assert.True(t, c.BatchWorkload)
	assert.Len(t, c.Workload.Turns, len(w.Turns))
	assert.Equal(t, "scripts/node_bench.sh --short (which ran: fakbench node-bench --short)", c.Command)

	t.Setenv(env.BatchWorkload.Name, "maybe")
	require.Error(t, (&Config{WorkloadPath: path}).ReadInputs())
	t.Setenv(env.BatchWorkload.Name, "0")
	require.Error(t, (&Config{WorkloadPath: filepath.Join(t.TempDir(), "missing.json")}).ReadInputs())
}

// Setup refuses each bad choice with the flag at fault, before it touches
// the folder or the environment.
func TestSetupRefusesBadChoices(t *testing.T) {
	good := func() Config { return Config{Backends: "gokernel", Profile: DefaultProfile} }
	cases := map[string]func(*Config, *string){
		"--out is required":    func(_ *Config, dir *string) { *dir = "" },
		"--threads -1":         func(c *Config, _ *string) { c.Threads = -1 },
		"--backends is empty":  func(c *Config, _ *string) { c.Backends = " , " },
		`--profile "tpu"`:      func(c *Config, _ *string) { c.Profile = "tpu" },
		"--out " + "not empty": nil,
	}
	for want, change := range cases {
		c, dir := good(), t.TempDir()
		if change != nil {
			change(&c, &dir)
		} else {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "stray.txt"), nil, 0o644))
			want = "--out"
		}
		err := c.Setup(dir)
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
		assert.Nil(t, c.Steps, "nothing set up after a refusal")
	}
}

// More threads than logical cores is refused unless --oversubscribe, which
// every step is then given.
func TestSetupThreadsAboveCores(t *testing.T) {
	c := Config{Backends: "gokernel", Profile: DefaultProfile, Threads: runtime.NumCPU() + 1}
	err := c.Setup(t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--oversubscribe")
	c.Oversubscribe = true
	assert.Contains(t, c.plan(1)[0].args, "--oversubscribe")
}
