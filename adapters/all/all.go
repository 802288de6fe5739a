// Package all registers every in-repo backend with the adapters registry.
// Import it for its side effects:
//
//	import _ "github.com/fakbench/fakbench/adapters/all"
//
// after which adapters.Names() lists gokernel, llamacpp, openvino and
// openvino-gguf. A backend whose native library is missing still
// registers; opening it returns a *transport.UnavailableError with the
// reason.
package all

import (
	// The in-repo Go kernel.
	_ "github.com/fakbench/fakbench/gokernel"
	// llama.cpp through cgo.
	_ "github.com/fakbench/fakbench/llamacpp"
	// OpenVINO through its run-time loaded C API and fakbench's C++
	// library (openvino, openvino-gguf).
	_ "github.com/fakbench/fakbench/openvino"
)
