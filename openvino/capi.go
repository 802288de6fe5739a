package openvino

// This file holds every cgo call of the package. The OpenVINO C API library
// (libopenvino_c.so.<version>) is opened at run time with dlopen and each
// function used is resolved with dlsym, so the binary builds and runs on a
// machine without OpenVINO. The declarations below are our own, written to
// match the layouts of openvino/c/ov_shape.h and ov_property.h of the
// 2026.4 runtime: ov_shape_t {int64_t rank; int64_t* dims;} and
// ov_property_t {const char* key; const void* value;}. Every other handle is
// opaque. Status codes are ov_status_e: 0 is OK, negative values are errors.

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int64_t rank; int64_t* dims; } fak_ov_shape_t;
typedef struct { const char* key; const void* value; } fak_ov_property_t;
typedef struct { const char* buildNumber; const char* description; } fak_ov_version_t;

typedef int (*fak_get_version_fn)(fak_ov_version_t*);
typedef void (*fak_version_free_fn)(fak_ov_version_t*);
typedef const char* (*fak_get_last_err_fn)(void);
typedef const char* (*fak_get_error_info_fn)(int);
typedef int (*fak_core_create_fn)(void**);
typedef void (*fak_core_free_fn)(void*);
typedef int (*fak_core_read_model_fn)(const void*, const char*, const char*, void**);
typedef void (*fak_model_free_fn)(void*);
typedef int (*fak_core_compile_model_props_fn)(const void*, const void*, const char*, size_t, const fak_ov_property_t*, void**);
typedef int (*fak_core_compile_model_var_fn)(const void*, const void*, const char*, size_t, void**, ...);
typedef void (*fak_compiled_model_free_fn)(void*);
typedef int (*fak_create_infer_request_fn)(const void*, void**);
typedef void (*fak_infer_request_free_fn)(void*);
typedef int (*fak_set_input_by_index_fn)(void*, size_t, const void*);
typedef int (*fak_get_output_by_index_fn)(const void*, size_t, void**);
typedef int (*fak_infer_fn)(void*);
typedef int (*fak_tensor_from_host_fn)(int, fak_ov_shape_t, void*, void**);
typedef int (*fak_tensor_get_shape_fn)(const void*, fak_ov_shape_t*);
typedef int (*fak_shape_free_fn)(fak_ov_shape_t*);
typedef int (*fak_tensor_data_fn)(const void*, void**);
typedef void (*fak_tensor_free_fn)(void*);
typedef int (*fak_cm_get_property_fn)(const void*, const char*, char**);
typedef int (*fak_core_get_property_fn)(const void*, const char*, const char*, char**);
typedef void (*fak_ov_free_fn)(const char*);

static void* fak_dlopen(const char* path, char** err) {
	void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) { const char* e = dlerror(); *err = e ? strdup(e) : strdup("dlopen failed"); }
	return h;
}
static void* fak_dlsym(void* h, const char* name) { dlerror(); return dlsym(h, name); }
static int fak_dlclose(void* h) { return dlclose(h); }

static int fak_call_get_version(void* f, fak_ov_version_t* v) { return ((fak_get_version_fn)f)(v); }
static void fak_call_version_free(void* f, fak_ov_version_t* v) { ((fak_version_free_fn)f)(v); }
static const char* fak_call_last_err(void* f) { return ((fak_get_last_err_fn)f)(); }
static const char* fak_call_error_info(void* f, int st) { return ((fak_get_error_info_fn)f)(st); }
static int fak_call_core_create(void* f, void** core) { return ((fak_core_create_fn)f)(core); }
static void fak_call_free(void* f, void* h) { ((fak_core_free_fn)f)(h); }
static int fak_call_read_model(void* f, void* core, const char* xml, const char* bin, void** model) {
	return ((fak_core_read_model_fn)f)(core, xml, bin, model);
}
static int fak_call_compile_props(void* f, void* core, void* model, const char* dev, size_t n,
                                  const fak_ov_property_t* props, void** out) {
	return ((fak_core_compile_model_props_fn)f)(core, model, dev, n, props, out);
}
// Older runtimes only have the variadic form; it takes key/value pairs.
static int fak_call_compile_var(void* f, void* core, void* model, const char* dev, size_t n,
                                const fak_ov_property_t* p, void** out) {
	fak_core_compile_model_var_fn fn = (fak_core_compile_model_var_fn)f;
	switch (n) {
	case 0: return fn(core, model, dev, 0, out);
	case 1: return fn(core, model, dev, 2, out, p[0].key, p[0].value);
	case 2: return fn(core, model, dev, 4, out, p[0].key, p[0].value, p[1].key, p[1].value);
	case 3: return fn(core, model, dev, 6, out, p[0].key, p[0].value, p[1].key, p[1].value, p[2].key, p[2].value);
	case 4: return fn(core, model, dev, 8, out, p[0].key, p[0].value, p[1].key, p[1].value, p[2].key, p[2].value,
	                  p[3].key, p[3].value);
	case 5: return fn(core, model, dev, 10, out, p[0].key, p[0].value, p[1].key, p[1].value, p[2].key, p[2].value,
	                  p[3].key, p[3].value, p[4].key, p[4].value);
	case 6: return fn(core, model, dev, 12, out, p[0].key, p[0].value, p[1].key, p[1].value, p[2].key, p[2].value,
	                  p[3].key, p[3].value, p[4].key, p[4].value, p[5].key, p[5].value);
	case 7: return fn(core, model, dev, 14, out, p[0].key, p[0].value, p[1].key, p[1].value, p[2].key, p[2].value,
	                  p[3].key, p[3].value, p[4].key, p[4].value, p[5].key, p[5].value, p[6].key, p[6].value);
	case 8: return fn(core, model, dev, 16, out, p[0].key, p[0].value, p[1].key, p[1].value, p[2].key, p[2].value,
	                  p[3].key, p[3].value, p[4].key, p[4].value, p[5].key, p[5].value, p[6].key, p[6].value,
	                  p[7].key, p[7].value);
	}
	return -14;
}
static int fak_call_create_request(void* f, void* cm, void** req) { return ((fak_create_infer_request_fn)f)(cm, req); }
static int fak_call_set_input(void* f, void* req, size_t idx, void* t) { return ((fak_set_input_by_index_fn)f)(req, idx, t); }
static int fak_call_get_output(void* f, void* req, size_t idx, void** t) { return ((fak_get_output_by_index_fn)f)(req, idx, t); }
static int fak_call_infer(void* f, void* req) { return ((fak_infer_fn)f)(req); }
static int fak_call_tensor_from_host(void* f, int type, int64_t rank, int64_t* dims, void* data, void** t) {
	fak_ov_shape_t s = { rank, dims };
	return ((fak_tensor_from_host_fn)f)(type, s, data, t);
}
static int fak_call_tensor_shape(void* fshape, void* ffree, void* t, int64_t* dims, int64_t max, int64_t* rank) {
	fak_ov_shape_t s = { 0, NULL };
	int st = ((fak_tensor_get_shape_fn)fshape)(t, &s);
	if (st != 0) return st;
	*rank = s.rank;
	for (int64_t i = 0; i < s.rank && i < max; i++) dims[i] = s.dims[i];
	((fak_shape_free_fn)ffree)(&s);
	return 0;
}
static int fak_call_tensor_data(void* f, void* t, void** data) { return ((fak_tensor_data_fn)f)(t, data); }
static int fak_call_cm_get_property(void* f, void* cm, const char* key, char** out) {
	return ((fak_cm_get_property_fn)f)(cm, key, out);
}
static int fak_call_core_get_property(void* f, void* core, const char* dev, const char* key, char** out) {
	return ((fak_core_get_property_fn)f)(core, dev, key, out);
}
static void fak_call_ov_free(void* f, char* p) { ((fak_ov_free_fn)f)(p); }
static const char* fak_deref_str(void* p) { return p ? *(const char**)p : NULL; }

// fakbench's own library (ovshim/fakov.h): every call returns NULL or an
// error string the caller frees with fakov_free. The trampolines below
// call it through the pointers dlsym resolved.
static int fakov_call_abi(void* f) { return ((int (*)(void))f)(); }
static void fakov_call_free(void* f, void* p) { ((void (*)(void*))f)(p); }
static char* fakov_call_versions(void* f, char** built, char** running) {
	return ((char* (*)(char**, char**))f)(built, running);
}
static char* fakov_call_read_ir(void* f, const char* xml, const char* bin, void** out) {
	return ((char* (*)(const char*, const char*, void**))f)(xml, bin, out);
}
static char* fakov_call_convert(void* f, const char* path, int stateful, void** out) {
	return ((char* (*)(const char*, int, void**))f)(path, stateful, out);
}
static char* fakov_call_save_ir(void* f, void* m, const char* xml, const char* bin) {
	return ((char* (*)(void*, const char*, const char*))f)(m, xml, bin);
}
static char* fakov_call_text(void* f, void* h, char** out) { return ((char* (*)(void*, char**))f)(h, out); }
static char* fakov_call_compile(void* f, void* m, const char* dev, size_t n, const char** keys, const char** vals, void** out) {
	return ((char* (*)(void*, const char*, size_t, const char**, const char**, void**))f)(m, dev, n, keys, vals, out);
}
static char* fakov_call_prop(void* f, void* h, const char* key, char** out) {
	return ((char* (*)(void*, const char*, char**))f)(h, key, out);
}
static char* fakov_call_device_prop(void* f, const char* dev, const char* key, char** out) {
	return ((char* (*)(const char*, const char*, char**))f)(dev, key, out);
}
static char* fakov_call_create(void* f, void* c, void** out) { return ((char* (*)(void*, void**))f)(c, out); }
static char* fakov_call_set_input(void* f, void* r, const char* name, int type, size_t rank, const int64_t* dims, void* data) {
	return ((char* (*)(void*, const char*, int, size_t, const int64_t*, void*))f)(r, name, type, rank, dims, data);
}
static char* fakov_call_do(void* f, void* r) { return ((char* (*)(void*))f)(r); }
static char* fakov_call_output(void* f, void* r, size_t idx, int* type, size_t* rank, int64_t* dims, void** data) {
	return ((char* (*)(void*, size_t, int*, size_t*, int64_t*, void**))f)(r, idx, type, rank, dims, data);
}
static char* fakov_call_count(void* f, void* r, size_t* n) { return ((char* (*)(void*, size_t*))f)(r, n); }
static char* fakov_call_length(void* f, void* r, int64_t axis, int64_t* n) {
	return ((char* (*)(void*, int64_t, int64_t*))f)(r, axis, n);
}
static char* fakov_call_trim(void* f, void* r, int64_t axis, int64_t keep, int64_t* before) {
	return ((char* (*)(void*, int64_t, int64_t, int64_t*))f)(r, axis, keep, before);
}
static char* fakov_call_state_get(void* f, void* r, size_t idx, size_t* rank, int64_t* dims, float* dst, size_t n) {
	return ((char* (*)(void*, size_t, size_t*, int64_t*, float*, size_t))f)(r, idx, rank, dims, dst, n);
}
static char* fakov_call_state_set(void* f, void* r, size_t idx, size_t rank, const int64_t* dims, const float* src) {
	return ((char* (*)(void*, size_t, size_t, const int64_t*, const float*))f)(r, idx, rank, dims, src);
}
*/
import "C"

import (
	"fmt"
	"path/filepath"
	"sync"
	"unsafe"
)

// OpenVINO element type codes (ov_element_type_e in ov_common.h).
const (
	ovF32 = 4
	ovI64 = 10
)

// symbol names resolved from the C API library.
var requiredSymbols = []string{
	"ov_get_openvino_version", "ov_version_free", "ov_get_error_info",
	"ov_core_create", "ov_core_free", "ov_core_read_model", "ov_model_free",
	"ov_compiled_model_create_infer_request", "ov_compiled_model_free",
	"ov_infer_request_set_input_tensor_by_index", "ov_infer_request_get_output_tensor_by_index",
	"ov_infer_request_infer", "ov_infer_request_free",
	"ov_tensor_create_from_host_ptr", "ov_tensor_get_shape", "ov_shape_free",
	"ov_tensor_data", "ov_tensor_free", "ov_compiled_model_get_property", "ov_free",
}

// capi is an opened C API library with its resolved entry points.
type capi struct {
	path    string
	handle  unsafe.Pointer
	fn      map[string]unsafe.Pointer
	lastErr unsafe.Pointer // ov_get_last_err_msg, optional
	compile unsafe.Pointer
	propsOK bool // compile is the non-variadic ov_core_compile_model_props
	// coreProp is ov_core_get_property (device properties such as
	// OPTIMIZATION_CAPABILITIES); optional, nil when absent.
	coreProp unsafe.Pointer
	version  string
	keys     map[string]string // property key constants read from the library

	coreOnce sync.Once
	core     *ovCore
	coreErr  error
}

var (
	libMu    sync.Mutex
	libCache = map[string]*capi{}
)

// openCAPI dlopens the library at path (once per path per process; the
// library is never unloaded because the runtime keeps threads alive) and
// resolves the symbols this package uses.
func openCAPI(path string) (*capi, error) {
	libMu.Lock()
	defer libMu.Unlock()
	if l, ok := libCache[path]; ok {
		return l, nil
	}
	l := &capi{path: path, fn: map[string]unsafe.Pointer{}, keys: map[string]string{}}
	h, missing, err := dlOpen(path, requiredSymbols, l.fn)
	if err != nil {
		return nil, err
	}
	l.handle = h
	sym := func(name string) unsafe.Pointer { return dlSym(h, name) }
	if p := sym("ov_core_compile_model_props"); p != nil {
		l.compile, l.propsOK = p, true
	} else if p := sym("ov_core_compile_model"); p != nil {
		l.compile = p
	} else {
		missing = append(missing, "ov_core_compile_model")
	}
	if len(missing) > 0 {
		C.fak_dlclose(h)
		return nil, fmt.Errorf("%s lacks C API symbols %v", path, missing)
	}
	l.lastErr = sym("ov_get_last_err_msg")
	l.coreProp = sym("ov_core_get_property")
	for _, k := range []string{"ov_property_key_hint_performance_mode", "ov_property_key_inference_num_threads",
		"ov_property_key_hint_inference_precision", "ov_property_key_num_streams"} {
		if p := sym(k); p != nil {
			if s := C.fak_deref_str(p); s != nil {
				l.keys[k] = C.GoString(s)
			}
		}
	}
	var v C.fak_ov_version_t
	if st := C.fak_call_get_version(l.fn["ov_get_openvino_version"], &v); st != 0 {
		C.fak_dlclose(h)
		return nil, fmt.Errorf("%s: ov_get_openvino_version failed with status %d", path, int(st))
	}
	l.version = C.GoString(v.buildNumber)
	C.fak_call_version_free(l.fn["ov_version_free"], &v)
	libCache[path] = l
	return l, nil
}

// dlOpen opens the library at path (RTLD_NOW|RTLD_LOCAL) and resolves
// names into fn; it returns the handle and the names the library lacks.
func dlOpen(path string, names []string, fn map[string]unsafe.Pointer) (unsafe.Pointer, []string, error) {
	var cs cStrings
	defer cs.free()
	var cerr *C.char
	h := C.fak_dlopen(cs.of(path), &cerr)
	if h == nil {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		return nil, nil, fmt.Errorf("dlopen %s: %s", path, msg)
	}
	var missing []string
	for _, name := range names {
		if p := dlSym(h, name); p != nil {
			fn[name] = p
		} else {
			missing = append(missing, name)
		}
	}
	return h, missing, nil
}

// dlSym resolves name in the library h, nil when it has none.
func dlSym(h unsafe.Pointer, name string) unsafe.Pointer {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	return C.fak_dlsym(h, cn)
}

// cStrings holds C copies of Go strings for the length of a call.
type cStrings []*C.char

// of returns s copied into C memory, freed by free.
func (cs *cStrings) of(s string) *C.char {
	p := C.CString(s)
	*cs = append(*cs, p)
	return p
}

// free releases every string of cs.
func (cs *cStrings) free() {
	for _, p := range *cs {
		C.free(unsafe.Pointer(p))
	}
	*cs = nil
}

// status turns an ov_status_e into an error naming the call.
func (l *capi) status(op string, st C.int) error {
	if st == 0 {
		return nil
	}
	msg := C.GoString(C.fak_call_error_info(l.fn["ov_get_error_info"], st))
	if l.lastErr != nil {
		if detail := C.fak_call_last_err(l.lastErr); detail != nil {
			if d := C.GoString(detail); d != "" {
				msg += ": " + d
			}
		}
	}
	return fmt.Errorf("openvino: %s: status %d (%s)", op, int(st), msg)
}

// release frees the object *p with the library's function fn and clears
// *p, so a second call does nothing.
func (l *capi) release(fn string, p *unsafe.Pointer) {
	if *p != nil {
		C.fak_call_free(l.fn[fn], *p)
		*p = nil
	}
}

// ovCore is an ov_core_t.
type ovCore struct {
	l *capi
	p unsafe.Pointer
}

// sharedCore returns the process-wide core of this library. It is created
// once and never freed: freeing the last core unloads the device plugins,
// and loading them again in the same process crashes the CPU plugin, so
// every Backend shares one core and frees only its compiled model.
func (l *capi) sharedCore() (*ovCore, error) {
	l.coreOnce.Do(func() { l.core, l.coreErr = l.newCore() })
	return l.core, l.coreErr
}

func (l *capi) newCore() (*ovCore, error) {
	var p unsafe.Pointer
	if err := l.status("ov_core_create", C.fak_call_core_create(l.fn["ov_core_create"], &p)); err != nil {
		return nil, err
	}
	return &ovCore{l: l, p: p}, nil
}

func (c *ovCore) free() {
	if c != nil {
		c.l.release("ov_core_free", &c.p)
	}
}

// ovModel is an ov_model_t.
type ovModel struct {
	l *capi
	p unsafe.Pointer
}

func (c *ovCore) readModel(xmlPath, binPath string) (*ovModel, error) {
	var cs cStrings
	defer cs.free()
	var p unsafe.Pointer
	if err := c.l.status("ov_core_read_model "+xmlPath,
		C.fak_call_read_model(c.l.fn["ov_core_read_model"], c.p, cs.of(xmlPath), cs.of(binPath), &p)); err != nil {
		return nil, err
	}
	return &ovModel{l: c.l, p: p}, nil
}

func (m *ovModel) free() {
	if m != nil {
		m.l.release("ov_model_free", &m.p)
	}
}

// maxVariadicProps is the most properties fak_call_compile_var passes.
const maxVariadicProps = 8

// property is one compile-time key/value pair.
type property struct{ Key, Value string }

// ovCompiled is an ov_compiled_model_t.
type ovCompiled struct {
	l *capi
	p unsafe.Pointer
}

func (c *ovCore) compile(m *ovModel, device string, props []property) (*ovCompiled, error) {
	if !c.l.propsOK && len(props) > maxVariadicProps {
		return nil, fmt.Errorf("openvino: this runtime has only the variadic compile call, limited to %d properties (%d given)", maxVariadicProps, len(props))
	}
	n := len(props)
	// The property array and its strings live in C memory: the runtime reads
	// them during the call.
	arr := (*C.fak_ov_property_t)(C.calloc(C.size_t(max(n, 1)), C.size_t(unsafe.Sizeof(C.fak_ov_property_t{}))))
	defer C.free(unsafe.Pointer(arr))
	items := unsafe.Slice(arr, max(n, 1))
	var cs cStrings
	defer cs.free()
	for i, p := range props {
		items[i].key = cs.of(p.Key)
		items[i].value = unsafe.Pointer(cs.of(p.Value))
	}
	cdev := cs.of(device)
	var out unsafe.Pointer
	var st C.int
	if c.l.propsOK {
		st = C.fak_call_compile_props(c.l.compile, c.p, m.p, cdev, C.size_t(n), arr, &out)
	} else {
		st = C.fak_call_compile_var(c.l.compile, c.p, m.p, cdev, C.size_t(n), arr, &out)
	}
	if err := c.l.status("ov_core_compile_model on "+device, st); err != nil {
		return nil, err
	}
	return &ovCompiled{l: c.l, p: out}, nil
}

// property reads a property of the compiled model as a string (the
// effective value the plugin chose, e.g. for NUM_STREAMS).
func (cm *ovCompiled) property(key string) (string, error) {
	var cs cStrings
	defer cs.free()
	var out *C.char
	if err := cm.l.status("ov_compiled_model_get_property "+key,
		C.fak_call_cm_get_property(cm.l.fn["ov_compiled_model_get_property"], cm.p, cs.of(key), &out)); err != nil {
		return "", err
	}
	return cm.l.take(out), nil
}

// deviceProperty reads a property of a device through the core (for
// example OPTIMIZATION_CAPABILITIES of "CPU": what its plugin can compute
// in on this CPU).
func (c *ovCore) deviceProperty(device, key string) (string, error) {
	if c.l.coreProp == nil {
		return "", fmt.Errorf("openvino: %s lacks ov_core_get_property", c.l.path)
	}
	var cs cStrings
	defer cs.free()
	var out *C.char
	if err := c.l.status("ov_core_get_property "+device+" "+key,
		C.fak_call_core_get_property(c.l.coreProp, c.p, cs.of(device), cs.of(key), &out)); err != nil {
		return "", err
	}
	return c.l.take(out), nil
}

// take copies a string the C library allocated and frees it with ov_free.
func (l *capi) take(p *C.char) string {
	v := C.GoString(p)
	C.fak_call_ov_free(l.fn["ov_free"], p)
	return v
}

func (cm *ovCompiled) free() {
	if cm != nil {
		cm.l.release("ov_compiled_model_free", &cm.p)
	}
}

// ovRequest is an ov_infer_request_t.
type ovRequest struct {
	l *capi
	p unsafe.Pointer
}

func (cm *ovCompiled) newRequest() (*ovRequest, error) {
	var p unsafe.Pointer
	if err := cm.l.status("ov_compiled_model_create_infer_request",
		C.fak_call_create_request(cm.l.fn["ov_compiled_model_create_infer_request"], cm.p, &p)); err != nil {
		return nil, err
	}
	return &ovRequest{l: cm.l, p: p}, nil
}

func (r *ovRequest) free() {
	if r != nil {
		r.l.release("ov_infer_request_free", &r.p)
	}
}

// setInput wraps host memory (C-allocated, see cbuf) as a tensor and binds
// it to input idx. The tensor handle is released right away; the request
// keeps its own reference until the next bind.
func (r *ovRequest) setInput(idx int, elemType int, dims []int64, data unsafe.Pointer) error {
	cd := (*C.int64_t)(C.malloc(C.size_t(8 * max(len(dims), 1))))
	defer C.free(unsafe.Pointer(cd))
	ds := unsafe.Slice((*int64)(unsafe.Pointer(cd)), max(len(dims), 1))
	copy(ds, dims)
	var t unsafe.Pointer
	if err := r.l.status(fmt.Sprintf("ov_tensor_create_from_host_ptr (input %d, shape %v)", idx, dims),
		C.fak_call_tensor_from_host(r.l.fn["ov_tensor_create_from_host_ptr"], C.int(elemType), C.int64_t(len(dims)), cd, data, &t)); err != nil {
		return err
	}
	defer C.fak_call_free(r.l.fn["ov_tensor_free"], t)
	return r.l.status(fmt.Sprintf("ov_infer_request_set_input_tensor_by_index %d", idx),
		C.fak_call_set_input(r.l.fn["ov_infer_request_set_input_tensor_by_index"], r.p, C.size_t(idx), t))
}

func (r *ovRequest) infer() error {
	return r.l.status("ov_infer_request_infer", C.fak_call_infer(r.l.fn["ov_infer_request_infer"], r.p))
}

// output returns the shape of output idx and a view of its f32 data. The
// view is valid until the next infer on r.
func (r *ovRequest) output(idx int) ([]int64, []float32, error) {
	var t unsafe.Pointer
	if err := r.l.status(fmt.Sprintf("ov_infer_request_get_output_tensor_by_index %d", idx),
		C.fak_call_get_output(r.l.fn["ov_infer_request_get_output_tensor_by_index"], r.p, C.size_t(idx), &t)); err != nil {
		return nil, nil, err
	}
	defer C.fak_call_free(r.l.fn["ov_tensor_free"], t)
	var dims [8]C.int64_t
	var rank C.int64_t
	if err := r.l.status("ov_tensor_get_shape", C.fak_call_tensor_shape(r.l.fn["ov_tensor_get_shape"], r.l.fn["ov_shape_free"],
		t, &dims[0], 8, &rank)); err != nil {
		return nil, nil, err
	}
	if rank < 0 || rank > 8 {
		return nil, nil, fmt.Errorf("openvino: output %d has rank %d", idx, int(rank))
	}
	shape, n := goShape(dims[:rank])
	var data unsafe.Pointer
	if err := r.l.status("ov_tensor_data", C.fak_call_tensor_data(r.l.fn["ov_tensor_data"], t, &data)); err != nil {
		return nil, nil, err
	}
	return shape, f32View(data, n), nil
}

// goShape copies a shape the runtime returned, with the number of
// elements it holds.
func goShape(dims []C.int64_t) ([]int64, int64) {
	shape := make([]int64, len(dims))
	n := int64(1)
	for i, d := range dims {
		shape[i] = int64(d)
		n *= shape[i]
	}
	return shape, n
}

// f32View is a view of n float32 values at data (nil when there are none).
func f32View(data unsafe.Pointer, n int64) []float32 {
	if n == 0 || data == nil {
		return nil
	}
	return unsafe.Slice((*float32)(data), int(n))
}

// cDims copies dims into a shape of fakovMaxRank axes for the library,
// with the number of elements it holds, or fails for a rank above
// fakovMaxRank ("has rank R, above 8": the caller names the tensor, on
// the error path only, since setInput runs four times a decode step).
func cDims(dims []int64) ([fakovMaxRank]C.int64_t, int64, error) {
	var cd [fakovMaxRank]C.int64_t
	if len(dims) > fakovMaxRank {
		return cd, 0, fmt.Errorf("has rank %d, above %d", len(dims), fakovMaxRank)
	}
	n := int64(1)
	for i, d := range dims {
		cd[i] = C.int64_t(d)
		n *= d
	}
	return cd, n, nil
}

// cbuf is memory allocated outside the Go heap, so the runtime may keep
// pointers to it (tensors wrap host memory without copying).
type cbuf struct {
	p    unsafe.Pointer
	size int
}

func newCBuf(size int) (*cbuf, error) {
	p := C.calloc(C.size_t(max(size, 1)), 1)
	if p == nil {
		return nil, fmt.Errorf("openvino: cannot allocate %d bytes", size)
	}
	return &cbuf{p: p, size: size}, nil
}

func (b *cbuf) free() {
	if b != nil && b.p != nil {
		C.free(b.p)
		b.p = nil
	}
}

func (b *cbuf) f32() []float32 { return unsafe.Slice((*float32)(b.p), b.size/4) }
func (b *cbuf) i64() []int64   { return unsafe.Slice((*int64)(b.p), b.size/8) }
func (b *cbuf) i32() []int32   { return unsafe.Slice((*int32)(b.p), b.size/4) }

// at returns a pointer off bytes into the buffer.
func (b *cbuf) at(off int) unsafe.Pointer { return unsafe.Add(b.p, off) }

// fakbench's own library over OpenVINO's C++ API (ovshim/fakov.h, built by
// the top-level CMakeLists.txt): the GGUF frontend, and infer requests
// whose variable state (a stateful model's KV cache) can be queried, read,
// written, reset and trimmed, which the C API cannot do. It is opened after
// the C library, so it shares the runtime the C library loaded.

// fakovABI is the FAKOV_ABI_VERSION this binding was written for.
const fakovABI = 1

// Element type codes of fakov.h.
const (
	fakF32  = 1
	fakF16  = 2
	fakBF16 = 3
	fakI64  = 4
	fakI32  = 5
)

// fakovMaxRank is FAKOV_MAX_RANK.
const fakovMaxRank = 8

var shimSymbols = []string{
	"fakov_abi_version", "fakov_free", "fakov_versions", "fakov_read_ir", "fakov_convert_gguf",
	"fakov_save_ir", "fakov_model_describe", "fakov_model_free", "fakov_compile",
	"fakov_compiled_property", "fakov_device_property", "fakov_compiled_runtime_ops",
	"fakov_compiled_free", "fakov_request_create", "fakov_request_free", "fakov_set_input",
	"fakov_infer", "fakov_output", "fakov_state_count", "fakov_state_describe", "fakov_state_length",
	"fakov_state_reset", "fakov_state_trim", "fakov_state_get_f32", "fakov_state_set_f32",
}

// shim is the opened library.
type shim struct {
	path string
	fn   map[string]unsafe.Pointer
	// built is the OpenVINO version the library was compiled against,
	// running the build number of the runtime it runs on.
	built, running string

	namesMu sync.Mutex
	names   map[string]*C.char // input names in C memory, kept for the process
}

var (
	shimMu    sync.Mutex
	shimCache = map[string]*shim{}
)

// openShim dlopens the library at path (once per path per process; never
// unloaded) and resolves its functions.
func openShim(path string) (*shim, error) {
	shimMu.Lock()
	defer shimMu.Unlock()
	if s, ok := shimCache[path]; ok {
		return s, nil
	}
	s := &shim{path: path, fn: map[string]unsafe.Pointer{}, names: map[string]*C.char{}}
	h, missing, err := dlOpen(path, shimSymbols, s.fn)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		C.fak_dlclose(h)
		return nil, fmt.Errorf("%s lacks %v (built from another ovshim/fakov.h? run make setup)", path, missing)
	}
	if v := int(C.fakov_call_abi(s.fn["fakov_abi_version"])); v != fakovABI {
		C.fak_dlclose(h)
		return nil, fmt.Errorf("%s has ABI version %d, this binary wants %d (run make setup to rebuild it)", path, v, fakovABI)
	}
	var built, running *C.char
	if err := s.check(C.fakov_call_versions(s.fn["fakov_versions"], &built, &running)); err != nil {
		C.fak_dlclose(h)
		return nil, err
	}
	s.built, s.running = s.take(built), s.take(running)
	shimCache[path] = s
	return s, nil
}

// take copies a string the library allocated and frees it.
func (s *shim) take(p *C.char) string {
	if p == nil {
		return ""
	}
	v := C.GoString(p)
	C.fakov_call_free(s.fn["fakov_free"], unsafe.Pointer(p))
	return v
}

// check turns a returned error string into an error (nil for NULL).
func (s *shim) check(p *C.char) error {
	if p == nil {
		return nil
	}
	return fmt.Errorf("openvino (%s): %s", filepath.Base(s.path), s.take(p))
}

// release frees the object *p with the library's function fn and clears
// *p, so a second call does nothing.
func (s *shim) release(fn string, p *unsafe.Pointer) {
	if *p != nil {
		C.fakov_call_free(s.fn[fn], *p)
		*p = nil
	}
}

// text calls the library's function fn that describes the object h in
// text, and returns the text.
func (s *shim) text(fn string, h unsafe.Pointer) (string, error) {
	var out *C.char
	if err := s.check(C.fakov_call_text(s.fn[fn], h, &out)); err != nil {
		return "", err
	}
	return s.take(out), nil
}

// cname returns name in C memory, allocated once per name.
func (s *shim) cname(name string) *C.char {
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	p, ok := s.names[name]
	if !ok {
		p = C.CString(name)
		s.names[name] = p
	}
	return p
}

// shimModel is a model read from IR or converted from GGUF.
type shimModel struct {
	s *shim
	p unsafe.Pointer
}

func (s *shim) readIR(xml, bin string) (*shimModel, error) {
	var cs cStrings
	defer cs.free()
	var p unsafe.Pointer
	if err := s.check(C.fakov_call_read_ir(s.fn["fakov_read_ir"], cs.of(xml), cs.of(bin), &p)); err != nil {
		return nil, err
	}
	return &shimModel{s: s, p: p}, nil
}

// convertGGUF converts a GGUF file with OpenVINO's GGUF frontend; stateful
// registers its GGUFMakeStateful and AdaptToGenAI passes.
func (s *shim) convertGGUF(path string, stateful bool) (*shimModel, error) {
	var cs cStrings
	defer cs.free()
	var p unsafe.Pointer
	st := C.int(0)
	if stateful {
		st = 1
	}
	if err := s.check(C.fakov_call_convert(s.fn["fakov_convert_gguf"], cs.of(path), st, &p)); err != nil {
		return nil, err
	}
	return &shimModel{s: s, p: p}, nil
}

func (m *shimModel) saveIR(xml, bin string) error {
	var cs cStrings
	defer cs.free()
	return m.s.check(C.fakov_call_save_ir(m.s.fn["fakov_save_ir"], m.p, cs.of(xml), cs.of(bin)))
}

// describe lists the model's inputs, outputs, variables and op counts
// (fakov_model_describe's lines).
func (m *shimModel) describe() (string, error) {
	return m.s.text("fakov_model_describe", m.p)
}

func (m *shimModel) free() {
	if m != nil {
		m.s.release("fakov_model_free", &m.p)
	}
}

// shimCompiled is a compiled model.
type shimCompiled struct {
	s *shim
	p unsafe.Pointer
}

func (s *shim) compile(m *shimModel, device string, props []property) (*shimCompiled, error) {
	n := len(props)
	keys := (**C.char)(C.calloc(C.size_t(max(n, 1)), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	vals := (**C.char)(C.calloc(C.size_t(max(n, 1)), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	defer C.free(unsafe.Pointer(keys))
	defer C.free(unsafe.Pointer(vals))
	ks, vs := unsafe.Slice(keys, max(n, 1)), unsafe.Slice(vals, max(n, 1))
	var cs cStrings
	defer cs.free()
	for i, p := range props {
		ks[i], vs[i] = cs.of(p.Key), cs.of(p.Value)
	}
	var p unsafe.Pointer
	if err := s.check(C.fakov_call_compile(s.fn["fakov_compile"], m.p, cs.of(device), C.size_t(n), keys, vals, &p)); err != nil {
		return nil, err
	}
	return &shimCompiled{s: s, p: p}, nil
}

// property reads a property of the compiled model as a string.
func (c *shimCompiled) property(key string) (string, error) {
	var cs cStrings
	defer cs.free()
	var out *C.char
	if err := c.s.check(C.fakov_call_prop(c.s.fn["fakov_compiled_property"], c.p, cs.of(key), &out)); err != nil {
		return "", err
	}
	return c.s.take(out), nil
}

// deviceProperty reads a property of a device through the library's core.
func (s *shim) deviceProperty(device, key string) (string, error) {
	var cs cStrings
	defer cs.free()
	var out *C.char
	if err := s.check(C.fakov_call_device_prop(s.fn["fakov_device_property"], cs.of(device), cs.of(key), &out)); err != nil {
		return "", err
	}
	return s.take(out), nil
}

// runtimeOps lists the layer types of the plugin's runtime graph with
// their counts ("<type>\t<count>" lines).
func (c *shimCompiled) runtimeOps() (string, error) {
	return c.s.text("fakov_compiled_runtime_ops", c.p)
}

func (c *shimCompiled) free() {
	if c != nil {
		c.s.release("fakov_compiled_free", &c.p)
	}
}

// shimRequest is an infer request of a compiled model, with its states.
type shimRequest struct {
	s *shim
	p unsafe.Pointer
}

func (c *shimCompiled) newRequest() (*shimRequest, error) {
	var p unsafe.Pointer
	if err := c.s.check(C.fakov_call_create(c.s.fn["fakov_request_create"], c.p, &p)); err != nil {
		return nil, err
	}
	return &shimRequest{s: c.s, p: p}, nil
}

func (r *shimRequest) free() {
	if r != nil {
		r.s.release("fakov_request_free", &r.p)
	}
}

// setInput binds C memory (cbuf) as the input tensor name, without a copy.
func (r *shimRequest) setInput(name string, elemType int, dims []int64, data unsafe.Pointer) error {
	cd, _, err := cDims(dims)
	if err != nil {
		return fmt.Errorf("openvino: input %s %w", name, err)
	}
	return r.s.check(C.fakov_call_set_input(r.s.fn["fakov_set_input"], r.p, r.s.cname(name), C.int(elemType),
		C.size_t(len(dims)), &cd[0], data))
}

func (r *shimRequest) infer() error {
	return r.s.check(C.fakov_call_do(r.s.fn["fakov_infer"], r.p))
}

// outputF32 returns the shape of output idx and a view of its f32 data,
// valid until the next infer.
func (r *shimRequest) outputF32(idx int) ([]int64, []float32, error) {
	var typ C.int
	var rank C.size_t
	var dims [fakovMaxRank]C.int64_t
	var data unsafe.Pointer
	if err := r.s.check(C.fakov_call_output(r.s.fn["fakov_output"], r.p, C.size_t(idx), &typ, &rank, &dims[0], &data)); err != nil {
		return nil, nil, err
	}
	shape, n := goShape(dims[:rank])
	if typ != fakF32 {
		return shape, nil, fmt.Errorf("openvino: output %d has element type code %d, want f32", idx, int(typ))
	}
	return shape, f32View(data, n), nil
}

// stateCount is how many variable states the request holds.
func (r *shimRequest) stateCount() (int, error) {
	var n C.size_t
	if err := r.s.check(C.fakov_call_count(r.s.fn["fakov_state_count"], r.p, &n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

// stateDescribe lists each state's name, type and shape as they are now.
func (r *shimRequest) stateDescribe() (string, error) {
	return r.s.text("fakov_state_describe", r.p)
}

// stateLength is the size of state 0 along axis: the positions the
// runtime's KV cache holds.
func (r *shimRequest) stateLength(axis int) (int, error) {
	var n C.int64_t
	if err := r.s.check(C.fakov_call_length(r.s.fn["fakov_state_length"], r.p, C.int64_t(axis), &n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

func (r *shimRequest) stateReset() error {
	return r.s.check(C.fakov_call_do(r.s.fn["fakov_state_reset"], r.p))
}

// stateTrim keeps the first keep positions along axis of every state and
// returns the longest length it saw before.
func (r *shimRequest) stateTrim(axis, keep int) (int, error) {
	var before C.int64_t
	if err := r.s.check(C.fakov_call_trim(r.s.fn["fakov_state_trim"], r.p, C.int64_t(axis), C.int64_t(keep), &before)); err != nil {
		return 0, err
	}
	return int(before), nil
}

// stateGet copies state idx into dst as f32 and returns its shape.
func (r *shimRequest) stateGet(idx int, dst []float32) ([]int64, error) {
	var rank C.size_t
	var dims [fakovMaxRank]C.int64_t
	var p *C.float
	if len(dst) > 0 {
		p = (*C.float)(unsafe.Pointer(&dst[0]))
	}
	if err := r.s.check(C.fakov_call_state_get(r.s.fn["fakov_state_get_f32"], r.p, C.size_t(idx), &rank, &dims[0], p, C.size_t(len(dst)))); err != nil {
		return nil, err
	}
	shape, _ := goShape(dims[:rank])
	return shape, nil
}

// stateSet sets state idx from f32 values of the given shape (copied).
func (r *shimRequest) stateSet(idx int, dims []int64, src []float32) error {
	cd, n, err := cDims(dims)
	if err != nil {
		return fmt.Errorf("openvino: state shape %v %w", dims, err)
	}
	if n != int64(len(src)) {
		return fmt.Errorf("openvino: state shape %v holds %d values, %d given", dims, n, len(src))
	}
	var p *C.float
	if len(src) > 0 {
		p = (*C.float)(unsafe.Pointer(&src[0]))
	}
	return r.s.check(C.fakov_call_state_set(r.s.fn["fakov_state_set_f32"], r.p, C.size_t(idx), C.size_t(len(dims)), &cd[0], p))
}
