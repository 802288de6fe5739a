//go:build !unix

package gguf

import (
	"io"
	"os"
)

// fileMapped says Open reads the file into memory here.
const fileMapped = false

// Evict does nothing where the file is read into memory.
func (f *File) Evict(data []byte) {}

// mapFile reads the whole file where mmap is not available.
func mapFile(fh *os.File, size int) ([]byte, func([]byte) error, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(fh, data); err != nil {
		return nil, nil, err
	}
	return data, func([]byte) error { return nil }, nil
}
