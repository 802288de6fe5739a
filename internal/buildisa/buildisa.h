// The x86 features a C or C++ compiler targets, read from the macros it
// predefines, named as /proc/cpuinfo names them (the pairs of
// internal/cpuid/isa_features.txt; a test checks the two lists agree), and
// the CPU fingerprint the build flags define (-DFAK_CPU_FINGERPRINT=<fp>).
// Included by the cgo preamble (C, CGO_CFLAGS) and by cxx.cpp (C++,
// CGO_CXXFLAGS), so each reports what its own compiler was told.
#ifndef FAK_BUILDISA_H
#define FAK_BUILDISA_H

#define FAK_BUILDISA_STR_(x) #x
#define FAK_BUILDISA_STR(x) FAK_BUILDISA_STR_(x)

// Space-separated feature names, each preceded by a space ("" for none).
static inline const char *fak_buildisa_features(void) {
	return ""
#ifdef __GCC_HAVE_SYNC_COMPARE_AND_SWAP_16
	       " cx16"
#endif
#ifdef __SSE3__
	       " pni"
#endif
#ifdef __SSSE3__
	       " ssse3"
#endif
#ifdef __SSE4_1__
	       " sse4_1"
#endif
#ifdef __SSE4_2__
	       " sse4_2"
#endif
#ifdef __SSE4A__
	       " sse4a"
#endif
#ifdef __POPCNT__
	       " popcnt"
#endif
#ifdef __LZCNT__
	       " abm"
#endif
#ifdef __BMI__
	       " bmi1"
#endif
#ifdef __BMI2__
	       " bmi2"
#endif
#ifdef __MOVBE__
	       " movbe"
#endif
#ifdef __AES__
	       " aes"
#endif
#ifdef __PCLMUL__
	       " pclmulqdq"
#endif
#ifdef __SHA__
	       " sha_ni"
#endif
#ifdef __AVX__
	       " avx"
#endif
#ifdef __AVX2__
	       " avx2"
#endif
#ifdef __FMA__
	       " fma"
#endif
#ifdef __FMA4__
	       " fma4"
#endif
#ifdef __XOP__
	       " xop"
#endif
#ifdef __TBM__
	       " tbm"
#endif
#ifdef __F16C__
	       " f16c"
#endif
#ifdef __GFNI__
	       " gfni"
#endif
#ifdef __VAES__
	       " vaes"
#endif
#ifdef __VPCLMULQDQ__
	       " vpclmulqdq"
#endif
#ifdef __AVXVNNI__
	       " avx_vnni"
#endif
#ifdef __AVX512F__
	       " avx512f"
#endif
#ifdef __AVX512CD__
	       " avx512cd"
#endif
#ifdef __AVX512DQ__
	       " avx512dq"
#endif
#ifdef __AVX512BW__
	       " avx512bw"
#endif
#ifdef __AVX512VL__
	       " avx512vl"
#endif
#ifdef __AVX512IFMA__
	       " avx512ifma"
#endif
#ifdef __AVX512VBMI__
	       " avx512vbmi"
#endif
#ifdef __AVX512VBMI2__
	       " avx512_vbmi2"
#endif
#ifdef __AVX512VNNI__
	       " avx512_vnni"
#endif
#ifdef __AVX512BITALG__
	       " avx512_bitalg"
#endif
#ifdef __AVX512VPOPCNTDQ__
	       " avx512_vpopcntdq"
#endif
#ifdef __AVX512BF16__
	       " avx512_bf16"
#endif
#ifdef __AVX512FP16__
	       " avx512_fp16"
#endif
#ifdef __AVX512VP2INTERSECT__
	       " avx512_vp2intersect"
#endif
#ifdef __AMX_TILE__
	       " amx_tile"
#endif
#ifdef __AMX_INT8__
	       " amx_int8"
#endif
#ifdef __AMX_BF16__
	       " amx_bf16"
#endif
	    ;
}

// The fingerprint as the compiler saw it, "" when the flags define none.
static inline const char *fak_buildisa_fingerprint(void) {
#ifdef FAK_CPU_FINGERPRINT
	return FAK_BUILDISA_STR(FAK_CPU_FINGERPRINT);
#else
	return "";
#endif
}

#endif
