//go:build linux && amd64 && !noasm

package kernels

import (
	"fmt"
	"syscall"
	"unsafe"
)

// Linux keeps the AMX tile data state off until a process asks for it
// (Documentation/arch/x86/xstate.rst): ARCH_REQ_XCOMP_PERM with the state
// component XTILEDATA, then ARCH_GET_XCOMP_PERM to confirm it.
const (
	archGetXcompPerm = 0x1022
	archReqXcompPerm = 0x1023
	xfeatureTileData = 18
)

func requestAMX() error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureTileData, 0); e != 0 {
		return fmt.Errorf("arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA): %w", e)
	}
	var mask uint64
	if _, _, e := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archGetXcompPerm, uintptr(unsafe.Pointer(&mask)), 0); e != 0 {
		return fmt.Errorf("arch_prctl(ARCH_GET_XCOMP_PERM): %w", e)
	}
	if mask&(1<<xfeatureTileData) == 0 {
		return fmt.Errorf("arch_prctl granted the state mask %#x, without XTILEDATA", mask)
	}
	return nil
}
