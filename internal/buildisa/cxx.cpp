//go:build cgo

// The C++ side of buildisa: compiled with CGO_CXXFLAGS, as llama.cpp's C++
// sources are, so the package sees both compilers' targets.
#include "buildisa.h"

extern "C" const char *fak_buildisa_cxx_features(void) { return fak_buildisa_features(); }

extern "C" const char *fak_buildisa_cxx_fingerprint(void) { return fak_buildisa_fingerprint(); }
