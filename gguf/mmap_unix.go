//go:build unix

package gguf

import (
	"os"
	"syscall"
	"unsafe"
)

// fileMapped says Open maps the file (rather than reading it).
const fileMapped = true

// Evict tells the kernel this process no longer needs the pages of data, a
// slice returned by TensorData, for example once a backend has copied a
// tensor into its own layout: they leave the resident set and are read
// again from the page cache if data is touched later (the contents never
// change; the mapping is read-only and shared). Only whole pages inside
// data are dropped. It does nothing for a File made by Parse, a slice from
// elsewhere, or a closed file.
func (f *File) Evict(data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.mapped || f.closed || len(data) == 0 || len(f.data) == 0 {
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(f.data)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	if p < base || p+uintptr(len(data)) > base+uintptr(len(f.data)) {
		return
	}
	page := uintptr(os.Getpagesize())
	lo := (p - base + page - 1) &^ (page - 1)
	hi := (p - base + uintptr(len(data))) &^ (page - 1)
	if hi <= lo {
		return
	}
	_ = syscall.Madvise(f.data[lo:hi], syscall.MADV_DONTNEED)
}

// mapFile maps size bytes of fh read-only and shared.
func mapFile(fh *os.File, size int) ([]byte, func([]byte) error, error) {
	data, err := syscall.Mmap(int(fh.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, syscall.Munmap, nil
}
