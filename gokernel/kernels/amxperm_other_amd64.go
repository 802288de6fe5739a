//go:build !linux && amd64 && !noasm

package kernels

import "fmt"

// requestAMX: only Linux's permission request is implemented.
func requestAMX() error { return fmt.Errorf("AMX permission request is implemented for Linux only") }
