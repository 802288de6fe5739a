package nodebench

import (
	"fmt"
	"os"
	"strings"

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
