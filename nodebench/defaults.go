package nodebench

import (
	"fmt"
	"os"
	"strings"

	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/internal/host"
)

// Defaults fills what the command line left unset: the model
// (DefaultModel, ShortModel for a short run), the host label (the short
// host name) and the thread count (the physical cores).
func (c *Config) Defaults() {
	if c.Model == "" {
		c.Model = DefaultModel
		if c.Short {
			c.Model = ShortModel
		}
	}
	if c.HostLabel == "" {
		h, _ := os.Hostname()
		c.HostLabel, _, _ = strings.Cut(h, ".")
	}
	if c.Threads == 0 {
		c.Threads = host.PhysicalCores()
	}
}

// Setup checks the command line's choices and makes the run ready to go
// into dir: the defaults filled (Defaults), dir checked fresh (an empty or
// missing folder, or one holding only logs/), a short run's caps set
// (SetShortCaps), the inputs read (ReadInputs) and, when Steps is unset,
// the steps run as child processes of this executable. Every error names
// the flag, folder or file at fault.
func (c *Config) Setup(dir string) error {
	switch {
	case dir == "":
		return fmt.Errorf("--out is required")
	case c.Threads < 0:
		return fmt.Errorf("--threads %d: want >= 0", c.Threads)
	case strings.Trim(c.Backends, ", ") == "":
		return fmt.Errorf("--backends is empty")
	}
	if err := host.CheckThreads(c.Threads, c.Oversubscribe); err != nil {
		return err
	}
	if _, ok := Profiles[c.Profile]; !ok {
		return fmt.Errorf("--profile %q: known %s", c.Profile, strings.Join(ProfileNames(), ", "))
	}
	c.Defaults()
	c.Layout = Layout{Dir: dir}
	if err := c.Layout.CheckFresh(); err != nil {
		return fmt.Errorf("--out %w", err)
	}
	if c.Short {
		if err := SetShortCaps(); err != nil {
			return err
		}
	}
	if err := c.ReadInputs(); err != nil {
		return err
	}
	if c.Steps == nil {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("cannot find its own binary: %w", err)
		}
		c.Steps = Exec(exe)
	}
	return nil
}

// SetShortCaps sets the workload caps a short run defaults to (ShortCap)
// where the environment does not set them. They are set in the
// environment, so every step's process sees them.
func SetShortCaps() error {
	for _, v := range []*env.IntVar{env.WorkloadPrefillCap, env.WorkloadPromptCap} {
		if !v.IsSet() {
			if err := v.Set(fmt.Sprint(ShortCap)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadInputs reads what the steps take from the environment and the
// workload file: the workload caps, the batch workload switch and the
// pinned workload (WorkloadPath). When FAK_NODE_BENCH_COMMAND names the
// script that started the run, Command becomes "<script> (which ran:
// <Command>)".
func (c *Config) ReadInputs() error {
	var err error
	if c.Caps, err = workload.CapsFromEnv(); err != nil {
		return err
	}
	if c.BatchWorkload, err = env.BatchWorkload.Bool(); err != nil {
		return err
	}
	if c.Workload, err = workload.Load(c.WorkloadPath); err != nil {
		return err
	}
	if sc := env.NodeBenchCommand.Value(); sc != "" {
		c.Command = sc + " (which ran: " + c.Command + ")"
	}
	return nil
}
