//go:build !cgo

package buildisa

// Read returns an empty Build: without cgo no native code is compiled in.
func Read() Build { return Build{} }
