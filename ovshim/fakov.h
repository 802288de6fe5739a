/*
 * fakov: fakbench's helper library over OpenVINO's C++ API, with a C ABI.
 *
 * OpenVINO's C library (libopenvino_c) has no variable-state calls and does
 * not reach the frontends' own passes, so this library exposes what the
 * openvino backend needs beyond it: a model read from IR or converted by
 * OpenVINO's GGUF frontend, compiled, run through an infer request, and the
 * request's variable states (the KV cache of a stateful model) queried,
 * read, written, reset and trimmed to their first N positions.
 *
 * Conventions:
 *  - A call that can fail returns NULL on success or an error message
 *    allocated for the caller, who frees it with fakov_free. No C++
 *    exception ever leaves the library: each call catches them all and
 *    returns the message.
 *  - Handles are opaque; each has one free function, which accepts NULL.
 *  - Strings returned through char** out parameters are freed with
 *    fakov_free as well.
 *  - Element types are the FAKOV_* codes below.
 *
 * The Go side (openvino/capi.go) opens this library with dlopen at run
 * time and resolves every function with dlsym; it is built by the
 * top-level CMakeLists.txt against the openvino wheel's CMake package.
 */
#ifndef FAKOV_H
#define FAKOV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; what this header declares
 * is its whole exported interface. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* Bumped whenever a signature or a convention of this header changes. */
#define FAKOV_ABI_VERSION 1

enum {
	FAKOV_UNDEFINED = 0,
	FAKOV_F32 = 1,
	FAKOV_F16 = 2,
	FAKOV_BF16 = 3,
	FAKOV_I64 = 4,
	FAKOV_I32 = 5,
	FAKOV_U8 = 6,
	FAKOV_I8 = 7,
	FAKOV_BOOL = 8,
	FAKOV_OTHER = 99 /* a type this ABI has no code for */
};

/* The most dimensions a shape passed through this ABI may have. */
#define FAKOV_MAX_RANK 8

typedef struct fakov_model fakov_model;
typedef struct fakov_compiled fakov_compiled;
typedef struct fakov_request fakov_request;

/* FAKOV_ABI_VERSION of the built library. */
int fakov_abi_version(void);

/* The OpenVINO version the library was compiled against ("2026.4.1") and
 * the build number of the runtime it runs on (ov::get_openvino_version). */
char* fakov_versions(char** built, char** running);

void fakov_free(void* p);

/* Reads an IR (.xml and its .bin). */
char* fakov_read_ir(const char* xml, const char* bin, fakov_model** out);

/* Converts a GGUF file with OpenVINO's GGUF frontend
 * (FrontEndManager::load_by_framework("gguf")). With stateful != 0, the
 * frontend's own GGUFMakeStateful and AdaptToGenAI passes are registered
 * first, so the model keeps its KV cache as variables and takes
 * input_ids, attention_mask, position_ids and beam_idx. */
char* fakov_convert_gguf(const char* path, int stateful, fakov_model** out);

/* Writes the model as IR. */
char* fakov_save_ir(const fakov_model* m, const char* xml, const char* bin);

/* Lines describing the model, tab-separated:
 *   in <name> <type> <partial shape>
 *   out <index> <name or -> <type> <partial shape>
 *   var <variable id> <type> <partial shape>
 *   op <type name> <count>  */
char* fakov_model_describe(const fakov_model* m, char** out);

void fakov_model_free(fakov_model* m);

/* Compiles for device with n string properties (keys[i] = values[i]). */
char* fakov_compile(const fakov_model* m, const char* device, size_t n, const char* const* keys,
                    const char* const* values, fakov_compiled** out);

/* A property of the compiled model, as a string. */
char* fakov_compiled_property(const fakov_compiled* c, const char* key, char** out);

/* A property of a device (through the library's core), as a string. */
char* fakov_device_property(const char* device, const char* key, char** out);

/* Lines "<layer type> <count>" of the compiled model's runtime graph: what
 * the plugin made of the model (fused attention nodes, compressed
 * matmuls). */
char* fakov_compiled_runtime_ops(const fakov_compiled* c, char** out);

void fakov_compiled_free(fakov_compiled* c);

char* fakov_request_create(fakov_compiled* c, fakov_request** out);

void fakov_request_free(fakov_request* r);

/* Binds host memory (not copied: it must stay valid until the next bind
 * of that input or the request's end) as the input tensor name. */
char* fakov_set_input(fakov_request* r, const char* name, int type, size_t rank, const int64_t* dims, void* data);

char* fakov_infer(fakov_request* r);

/* Output index: its type, rank, dims (FAKOV_MAX_RANK of room) and a view
 * of its data, valid until the next infer. */
char* fakov_output(fakov_request* r, size_t index, int* type, size_t* rank, int64_t* dims, void** data);

/* How many variable states the request holds. */
char* fakov_state_count(fakov_request* r, size_t* n);

/* Lines "<name> <type> <shape>" of the request's states as they are now. */
char* fakov_state_describe(fakov_request* r, char** out);

/* The size of state 0 along axis (the positions a KV cache holds). */
char* fakov_state_length(fakov_request* r, int64_t axis, int64_t* length);

/* Resets every state to its initial (empty) value. */
char* fakov_state_reset(fakov_request* r);

/* Keeps the first keep positions along axis of every state (keep 0
 * resets). before is the largest size along axis seen before trimming;
 * states already at most keep long are left alone. */
char* fakov_state_trim(fakov_request* r, int64_t axis, int64_t keep, int64_t* before);

/* Copies state index into dst as f32 (dst_floats of room); its shape goes
 * to rank and dims. */
char* fakov_state_get_f32(fakov_request* r, size_t index, size_t* rank, int64_t* dims, float* dst, size_t dst_floats);

/* Sets state index from f32 host data of the given shape (copied; the
 * runtime converts it to the state's own precision). */
char* fakov_state_set_f32(fakov_request* r, size_t index, size_t rank, const int64_t* dims, const float* src);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
