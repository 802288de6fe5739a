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
*/
import "C"

import (
	"fmt"
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
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	h := C.fak_dlopen(cpath, &cerr)
	if h == nil {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		return nil, fmt.Errorf("dlopen %s: %s", path, msg)
	}
	l := &capi{path: path, handle: h, fn: map[string]unsafe.Pointer{}, keys: map[string]string{}}
	sym := func(name string) unsafe.Pointer {
		cn := C.CString(name)
		defer C.free(unsafe.Pointer(cn))
		return C.fak_dlsym(h, cn)
	}
	var missing []string
	for _, name := range requiredSymbols {
		p := sym(name)
		if p == nil {
			missing = append(missing, name)
			continue
		}
		l.fn[name] = p
	}
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
	if c != nil && c.p != nil {
		C.fak_call_free(c.l.fn["ov_core_free"], c.p)
		c.p = nil
	}
}

// ovModel is an ov_model_t.
type ovModel struct {
	l *capi
	p unsafe.Pointer
}

func (c *ovCore) readModel(xmlPath, binPath string) (*ovModel, error) {
	cx, cb := C.CString(xmlPath), C.CString(binPath)
	defer C.free(unsafe.Pointer(cx))
	defer C.free(unsafe.Pointer(cb))
	var p unsafe.Pointer
	if err := c.l.status("ov_core_read_model "+xmlPath, C.fak_call_read_model(c.l.fn["ov_core_read_model"], c.p, cx, cb, &p)); err != nil {
		return nil, err
	}
	return &ovModel{l: c.l, p: p}, nil
}

func (m *ovModel) free() {
	if m != nil && m.p != nil {
		C.fak_call_free(m.l.fn["ov_model_free"], m.p)
		m.p = nil
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
	var strs []*C.char
	defer func() {
		for _, s := range strs {
			C.free(unsafe.Pointer(s))
		}
	}()
	for i, p := range props {
		k, v := C.CString(p.Key), C.CString(p.Value)
		strs = append(strs, k, v)
		items[i].key = k
		items[i].value = unsafe.Pointer(v)
	}
	cdev := C.CString(device)
	defer C.free(unsafe.Pointer(cdev))
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
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	var out *C.char
	if err := cm.l.status("ov_compiled_model_get_property "+key,
		C.fak_call_cm_get_property(cm.l.fn["ov_compiled_model_get_property"], cm.p, ck, &out)); err != nil {
		return "", err
	}
	v := C.GoString(out)
	C.fak_call_ov_free(cm.l.fn["ov_free"], out)
	return v, nil
}

// deviceProperty reads a property of a device through the core (for
// example OPTIMIZATION_CAPABILITIES of "CPU": what its plugin can compute
// in on this CPU).
func (c *ovCore) deviceProperty(device, key string) (string, error) {
	if c.l.coreProp == nil {
		return "", fmt.Errorf("openvino: %s lacks ov_core_get_property", c.l.path)
	}
	cd, ck := C.CString(device), C.CString(key)
	defer C.free(unsafe.Pointer(cd))
	defer C.free(unsafe.Pointer(ck))
	var out *C.char
	if err := c.l.status("ov_core_get_property "+device+" "+key,
		C.fak_call_core_get_property(c.l.coreProp, c.p, cd, ck, &out)); err != nil {
		return "", err
	}
	v := C.GoString(out)
	C.fak_call_ov_free(c.l.fn["ov_free"], out)
	return v, nil
}

func (cm *ovCompiled) free() {
	if cm != nil && cm.p != nil {
		C.fak_call_free(cm.l.fn["ov_compiled_model_free"], cm.p)
		cm.p = nil
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
	if r != nil && r.p != nil {
		C.fak_call_free(r.l.fn["ov_infer_request_free"], r.p)
		r.p = nil
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
	shape := make([]int64, int(rank))
	n := int64(1)
	for i := range shape {
		shape[i] = int64(dims[i])
		n *= shape[i]
	}
	var data unsafe.Pointer
	if err := r.l.status("ov_tensor_data", C.fak_call_tensor_data(r.l.fn["ov_tensor_data"], t, &data)); err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return shape, nil, nil
	}
	return shape, unsafe.Slice((*float32)(data), int(n)), nil
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

// at returns a pointer off bytes into the buffer.
func (b *cbuf) at(off int) unsafe.Pointer { return unsafe.Add(b.p, off) }
