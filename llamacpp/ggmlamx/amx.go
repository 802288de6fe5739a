// Package ggmlamx compiles ggml's AMX sources, which the ollama module ships
// (ggml-cpu/amx/amx.cpp and mmq.cpp) but none of its Go packages compiles.
//
// ggml-cpu.cpp references ggml_backend_amx_buffer_type() whenever the
// compiler targets a CPU with AMX-INT8 and AVX-512 VNNI (-march=native on a
// Sapphire Rapids or later Xeon), so without this package the llama.cpp
// build fails to link there. On every other CPU both files compile to
// nothing, so the package is safe to import everywhere; the llamacpp
// package blank-imports it.
//
// The .cpp files here only include the module's sources through
// third_party/ggml (linked by scripts/setup.d/10-go.sh), with the include
// paths and definitions the module's own ggml-cpu package uses, so the AMX
// code is compiled exactly as ggml's CMake build would compile it.
package ggmlamx

// #cgo CXXFLAGS: -std=c++17
// #cgo CPPFLAGS: -DNDEBUG -DGGML_USE_LLAMAFILE
// #cgo linux CPPFLAGS: -D_GNU_SOURCE
// #cgo CPPFLAGS: -I${SRCDIR}/../../third_party/ggml/src/ggml-cpu/amx
// #cgo CPPFLAGS: -I${SRCDIR}/../../third_party/ggml/src/ggml-cpu
// #cgo CPPFLAGS: -I${SRCDIR}/../../third_party/ggml/src
// #cgo CPPFLAGS: -I${SRCDIR}/../../third_party/ggml/include
//
// // Compile-time view of the AMX path: 1 when this build defines the AMX
// // buffer type (the compiler targeted AMX-INT8 and AVX-512 VNNI).
// static int fak_amx_compiled(void) {
// #if defined(__AMX_INT8__) && defined(__AVX512VNNI__)
// 	return 1;
// #else
// 	return 0;
// #endif
// }
import "C"

// Compiled reports whether this build contains ggml's AMX matrix kernels:
// true when the C++ compiler targeted AMX-INT8 with AVX-512 VNNI. Whether
// they run also depends on the CPU, the kernel's permission for tile data
// and the shapes of the model's weights (see the llamacpp package).
func Compiled() bool { return C.fak_amx_compiled() != 0 }
