//go:build cgo

package llamacpp

// This file holds every cgo call of the package. It is deliberately thin:
// each function converts Go values to C, makes one or a few llama.h calls
// and converts the results back. Session logic, options and validation live
// in plain Go files.
//
// The C and C++ sources of llama.cpp and ggml are compiled by the two
// blank-imported packages of the ollama module; the headers are found
// through third_party/ (linked by scripts/setup.d/10-go.sh).

/*
#cgo CPPFLAGS: -I${SRCDIR}/../third_party/llama/include -I${SRCDIR}/../third_party/ggml/include
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "llama.h"
#include "ggml-cpu.h"

// Log sink: drops llama.cpp and ggml output unless enabled (FAK_LLAMA_LOG=1).
static int fak_log_on = 0;

// Log capture: while on, log text is also appended to a bounded buffer, so
// Go can read what llama.cpp decided while loading a model (which weight
// buffer types it used). Guarded by a mutex: ggml may log from any thread.
#include <pthread.h>
#define FAK_CAP_MAX (256 * 1024)
static pthread_mutex_t fak_cap_mu = PTHREAD_MUTEX_INITIALIZER;
static int fak_cap_on = 0;
static char *fak_cap_buf = NULL;
static size_t fak_cap_len = 0;

static void fak_capture_append(const char *text) {
	pthread_mutex_lock(&fak_cap_mu);
	if (fak_cap_on && fak_cap_buf != NULL) {
		size_t n = strlen(text);
		if (fak_cap_len + n > FAK_CAP_MAX) {
			n = FAK_CAP_MAX - fak_cap_len;
		}
		memcpy(fak_cap_buf + fak_cap_len, text, n);
		fak_cap_len += n;
	}
	pthread_mutex_unlock(&fak_cap_mu);
}

static int fak_capture_begin(void) {
	pthread_mutex_lock(&fak_cap_mu);
	if (fak_cap_buf == NULL) {
		fak_cap_buf = (char *)malloc(FAK_CAP_MAX);
	}
	fak_cap_len = 0;
	fak_cap_on = fak_cap_buf != NULL;
	int ok = fak_cap_on;
	pthread_mutex_unlock(&fak_cap_mu);
	return ok;
}

// fak_capture_end stops capturing and copies at most cap bytes of the text
// into out; it returns the number of bytes copied.
static size_t fak_capture_end(char *out, size_t cap) {
	pthread_mutex_lock(&fak_cap_mu);
	fak_cap_on = 0;
	size_t n = fak_cap_len < cap ? fak_cap_len : cap;
	if (n > 0) {
		memcpy(out, fak_cap_buf, n);
	}
	fak_cap_len = 0;
	pthread_mutex_unlock(&fak_cap_mu);
	return n;
}

static void fak_log_cb(enum ggml_log_level level, const char *text, void *ud) {
	(void)level;
	(void)ud;
	if (text == NULL) {
		return;
	}
	fak_capture_append(text);
	if (__atomic_load_n(&fak_log_on, __ATOMIC_RELAXED)) {
		fputs(text, stderr);
	}
}

static void fak_log_install(int on) {
	__atomic_store_n(&fak_log_on, on, __ATOMIC_RELAXED);
	llama_log_set(fak_log_cb, NULL);
}

// Abort flag: C memory owned by one context, polled by ggml between graph
// nodes. Go only stores into it; C never keeps a Go pointer.
static bool fak_abort_cb(void *data) {
	return __atomic_load_n((int *)data, __ATOMIC_RELAXED) != 0;
}

static int *fak_flag_new(void) {
	return (int *)calloc(1, sizeof(int));
}

static void fak_flag_store(int *flag, int v) {
	__atomic_store_n(flag, v, __ATOMIC_RELAXED);
}

static int fak_flag_load(int *flag) {
	return __atomic_load_n(flag, __ATOMIC_RELAXED);
}

static void fak_set_abort(struct llama_context *ctx, int *flag) {
	llama_set_abort_callback(ctx, fak_abort_cb, flag);
}

// Fill a batch with consecutive positions of one sequence; only the last
// token asks for logits when logits_last is set.
static void fak_batch_fill_seq(struct llama_batch *b, const llama_token *toks, int32_t n,
                               llama_pos pos0, llama_seq_id seq, int logits_last) {
	for (int32_t i = 0; i < n; i++) {
		b->token[i] = toks[i];
		b->pos[i] = pos0 + i;
		b->n_seq_id[i] = 1;
		b->seq_id[i][0] = seq;
		b->logits[i] = 0;
	}
	if (logits_last && n > 0) {
		b->logits[n - 1] = 1;
	}
	b->n_tokens = n;
}

// Fill a batch with one token per entry, each with its own position and
// sequence; every entry asks for logits.
static void fak_batch_fill_multi(struct llama_batch *b, const llama_token *toks, const llama_pos *pos,
                                 const llama_seq_id *seq, int32_t n) {
	for (int32_t i = 0; i < n; i++) {
		b->token[i] = toks[i];
		b->pos[i] = pos[i];
		b->n_seq_id[i] = 1;
		b->seq_id[i][0] = seq[i];
		b->logits[i] = 1;
	}
	b->n_tokens = n;
}

// Arg-max of the logits of output i; ties go to the lowest id (the first
// maximum), as in the Go kernel. Returns -1 when there are no such logits.
static int32_t fak_argmax_ith(struct llama_context *ctx, int32_t i, int32_t n_vocab) {
	const float *v = llama_get_logits_ith(ctx, i);
	if (v == NULL || n_vocab <= 0) {
		return -1;
	}
	int32_t best = 0;
	float bv = v[0];
	for (int32_t j = 1; j < n_vocab; j++) {
		if (v[j] > bv) {
			bv = v[j];
			best = j;
		}
	}
	return best;
}

// A persistent thread pool (as llama-bench and llama-cli attach one);
// without it ggml creates and joins its worker threads on every graph.
static struct ggml_threadpool *fak_threadpool_new(int n_threads, int poll) {
	struct ggml_threadpool_params p = ggml_threadpool_params_default(n_threads);
	p.poll = (uint32_t)poll;
	return ggml_threadpool_new(&p);
}

// C heap accounting for the leak test (glibc only; -1 elsewhere).
static long long fak_heap_inuse(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 m = mallinfo2();
	return (long long)(m.uordblks + m.hblkhd);
#else
	return -1;
#endif
}

static void fak_heap_trim(void) {
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static int32_t fak_meta_str(const struct llama_model *m, const char *key, char *buf, size_t n) {
	return llama_model_meta_val_str(m, key, buf, n);
}

// Vocabulary only: the tokenizer of a GGUF file without its weights.
static struct llama_model *fak_load_vocab(const char *path) {
	struct llama_model_params mp = llama_model_default_params();
	mp.n_gpu_layers = 0;
	mp.vocab_only = true;
	return llama_model_load_from_file(path, mp);
}

// ggml's facts about a tensor type. Returns 0 for a value outside the enum
// or a removed type (block size 0), else 1.
static int fak_type_traits(int t, const char **name, int64_t *blck, size_t *type_size, int *to_float) {
	if (t < 0 || t >= GGML_TYPE_COUNT) {
		return 0;
	}
	const struct ggml_type_traits *tr = ggml_get_type_traits((enum ggml_type)t);
	if (tr == NULL || tr->blck_size <= 0) {
		return 0;
	}
	*name = tr->type_name;
	*blck = tr->blck_size;
	*type_size = tr->type_size;
	*to_float = tr->to_float != NULL;
	return 1;
}

// ggml's own dequantization of n values of type t (the caller checked t,
// n and the size of data).
static void fak_to_float(int t, const void *data, float *out, int64_t n) {
	ggml_get_type_traits((enum ggml_type)t)->to_float(data, out, n);
}

// One row of n values quantized to type t without an importance matrix.
static size_t fak_quantize_row(int t, const float *src, void *dst, int64_t n) {
	ggml_quantize_init((enum ggml_type)t);
	return ggml_quantize_chunk((enum ggml_type)t, src, dst, 0, 1, n, NULL);
}

static uint32_t fak_quantize_model(const char *in, const char *out, int ftype, int nthread) {
	llama_model_quantize_params qp = llama_model_quantize_default_params();
	qp.ftype = (enum llama_ftype)ftype;
	qp.nthread = nthread;
	return llama_model_quantize(in, out, &qp);
}
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/models"

	// The compiled llama.cpp and ggml (CPU backend registered statically
	// through GGML_USE_CPU, so nothing is loaded at run time).
	_ "github.com/ollama/ollama/llama/llama.cpp/src"
	_ "github.com/ollama/ollama/ml/backend/ggml/ggml/src"

	// ggml's AMX sources, which the module ships but does not compile:
	// ggml-cpu.cpp needs them to link on an AMX CPU (empty elsewhere).
	"github.com/fakbench/fakbench/llamacpp/ggmlamx"
)

// amxCompiled says this build contains ggml's AMX kernels.
func amxCompiled() bool { return ggmlamx.Compiled() }

// nativeCompiled says the llama.cpp library is linked into this binary.
const nativeCompiled = true

func init() {
	// The ggml package installs its own log sink at init (printing through
	// slog at INFO); replace it with ours, silent unless asked for.
	// A bad FAK_LLAMA_LOG value leaves the log off: init has no caller
	// to report it to.
	on := C.int(0)
	if yes, _ := env.LlamaLog.Bool(); yes {
		on = 1
	}
	C.fak_log_install(on)
	// Quantized synthetic specs (synthetic:PRESET:q4_k_m) are made by
	// llama.cpp's quantizer; models reaches it through this hook.
	models.RegisterQuantizer(QuantizeModel)
}

var backendOnce sync.Once

// nativeInit initialises llama.cpp's backend once per process.
func nativeInit() error {
	backendOnce.Do(func() { C.llama_backend_init() })
	return nil
}

// nativeSystemInfo is llama_print_system_info(): the CPU features and
// ggml build options compiled in.
func nativeSystemInfo() string {
	return C.GoString(C.llama_print_system_info())
}

// nativeMaxSequences is the largest n_seq_max a context accepts.
func nativeMaxSequences() int {
	return int(C.llama_max_parallel_sequences())
}

// ggmlKVType maps a KV cache type name (see kvTypeList) to its ggml type.
func ggmlKVType(name string) (C.enum_ggml_type, bool) {
	switch name {
	case "f32":
		return C.GGML_TYPE_F32, true
	case "f16":
		return C.GGML_TYPE_F16, true
	case "bf16":
		return C.GGML_TYPE_BF16, true
	case "q8_0":
		return C.GGML_TYPE_Q8_0, true
	case "q4_0":
		return C.GGML_TYPE_Q4_0, true
	case "q4_1":
		return C.GGML_TYPE_Q4_1, true
	case "q5_0":
		return C.GGML_TYPE_Q5_0, true
	case "q5_1":
		return C.GGML_TYPE_Q5_1, true
	}
	return 0, false
}

// nativeModel is a loaded llama_model.
type nativeModel struct {
	p *C.struct_llama_model
}

// loadModel loads a GGUF file on the CPU. llama.cpp returns NULL (it does
// not abort) on files it cannot use; the reason goes to its log.
// loadMu serialises model loads, so the captured load log is one model's.
var loadMu sync.Mutex

// loadModel loads a GGUF file. extraBufts is llama.cpp's use_extra_bufts
// (the CPU backend's extra weight buffer types: AMX, CPU_REPACK). It also
// returns llama.cpp's log of the load, where it says which buffer type each
// group of weights went to.
func loadModel(path string, mmap, extraBufts bool) (*nativeModel, string, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	mp := C.llama_model_default_params()
	mp.n_gpu_layers = 0
	mp.use_mmap = C.bool(mmap)
	mp.use_extra_bufts = C.bool(extraBufts)
	loadMu.Lock()
	defer loadMu.Unlock()
	capturing := C.fak_capture_begin() != 0
	m := C.llama_model_load_from_file(cpath, mp)
	var logText string
	if capturing {
		buf := make([]byte, 256*1024)
		n := C.fak_capture_end((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
		logText = string(buf[:n])
	}
	if m == nil {
		return nil, logText, fmt.Errorf("llama_model_load_from_file returned NULL (run with FAK_LLAMA_LOG=1 for llama.cpp's reason)")
	}
	return &nativeModel{p: m}, logText, nil
}

func (m *nativeModel) free() {
	if m.p != nil {
		C.llama_model_free(m.p)
		m.p = nil
	}
}

func (m *nativeModel) metaString(key string) string {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	buf := make([]byte, 512)
	n := C.fak_meta_str(m.p, ckey, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	if n < 0 {
		return ""
	}
	if int(n) >= len(buf) {
		n = C.int32_t(len(buf) - 1)
	}
	return string(buf[:n])
}

func (m *nativeModel) meta() modelMeta {
	buf := make([]byte, 256)
	n := C.llama_model_desc(m.p, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	desc := ""
	if n > 0 {
		desc = string(buf[:min(int(n), len(buf)-1)])
	}
	return modelMeta{
		nCtxTrain: int(C.llama_model_n_ctx_train(m.p)),
		nVocab:    int(C.llama_vocab_n_tokens(C.llama_model_get_vocab(m.p))),
		nParams:   int64(C.llama_model_n_params(m.p)),
		size:      int64(C.llama_model_size(m.p)),
		desc:      desc,
		name:      m.metaString("general.name"),
		arch:      m.metaString("general.architecture"),
	}
}

func nativeContextDefaults() contextDefaults {
	cp := C.llama_context_default_params()
	d := contextDefaults{
		nBatch:       int(cp.n_batch),
		nUbatch:      int(cp.n_ubatch),
		threads:      int(cp.n_threads),
		threadsBatch: int(cp.n_threads_batch),
		flashAttn:    int(cp.flash_attn_type),
	}
	for _, name := range kvTypeList {
		t, _ := ggmlKVType(name)
		if t == cp.type_k {
			d.typeK = name
		}
		if t == cp.type_v {
			d.typeV = name
		}
	}
	return d
}

// nativeCtx is a llama_context with its reusable batch and abort flag.
type nativeCtx struct {
	p      *C.struct_llama_context
	tp     *C.struct_ggml_threadpool
	batch  C.struct_llama_batch
	nBatch int
	nVocab int
	flag   *C.int
}

// newContext creates a context on m. The batch holds up to nBatch tokens.
func (m *nativeModel) newContext(p ctxParams) (*nativeCtx, error) {
	cp := C.llama_context_default_params()
	cp.n_ctx = C.uint32_t(p.nCtx)
	cp.n_seq_max = C.uint32_t(max(p.nSeqMax, 1))
	cp.no_perf = true
	cp.n_batch = C.uint32_t(p.nBatch)
	cp.n_ubatch = C.uint32_t(p.nUbatch)
	cp.n_threads = C.int32_t(p.threads)
	cp.n_threads_batch = C.int32_t(p.threadsBatch)
	cp.flash_attn_type = C.enum_llama_flash_attn_type(p.flashAttn)
	tk, ok := ggmlKVType(p.typeK)
	if !ok {
		return nil, fmt.Errorf("unknown KV cache type_k %q", p.typeK)
	}
	tv, ok := ggmlKVType(p.typeV)
	if !ok {
		return nil, fmt.Errorf("unknown KV cache type_v %q", p.typeV)
	}
	cp.type_k, cp.type_v = tk, tv
	flag := C.fak_flag_new()
	if flag == nil {
		return nil, fmt.Errorf("allocating the abort flag failed")
	}
	ctx := C.llama_init_from_model(m.p, cp)
	if ctx == nil {
		C.free(unsafe.Pointer(flag))
		return nil, fmt.Errorf("llama_init_from_model returned NULL (run with FAK_LLAMA_LOG=1 for llama.cpp's reason)")
	}
	C.fak_set_abort(ctx, flag)
	var tp *C.struct_ggml_threadpool
	if p.threadpool {
		tp = C.fak_threadpool_new(C.int(max(p.threads, p.threadsBatch)), C.int(p.poll))
		if tp == nil {
			C.llama_free(ctx)
			C.free(unsafe.Pointer(flag))
			return nil, fmt.Errorf("ggml_threadpool_new(%d threads) returned NULL", max(p.threads, p.threadsBatch))
		}
		C.llama_attach_threadpool(ctx, tp, nil)
	}
	nb := int(C.llama_n_batch(ctx))
	nseq := int(C.llama_n_seq_max(ctx))
	c := &nativeCtx{
		p:      ctx,
		tp:     tp,
		batch:  C.llama_batch_init(C.int32_t(nb), 0, C.int32_t(nseq)),
		nBatch: nb,
		nVocab: int(C.llama_vocab_n_tokens(C.llama_model_get_vocab(m.p))),
		flag:   flag,
	}
	return c, nil
}

func (c *nativeCtx) free() {
	if c.p != nil {
		C.llama_batch_free(c.batch)
		C.llama_free(c.p)
		if c.tp != nil {
			C.ggml_threadpool_free(c.tp)
			c.tp = nil
		}
		C.free(unsafe.Pointer(c.flag))
		c.p = nil
		c.flag = nil
	}
}

// pause parks the context's thread pool (its workers stop polling and
// wait); ggml resumes it by itself at the next graph compute.
func (c *nativeCtx) pause() {
	if c.p != nil && c.tp != nil {
		C.ggml_threadpool_pause(c.tp)
	}
}

// settings are the values the context actually runs with.
func (c *nativeCtx) settings() (nCtx, nBatch, nUbatch, nSeqMax, threads, threadsBatch int) {
	return int(C.llama_n_ctx(c.p)), int(C.llama_n_batch(c.p)), int(C.llama_n_ubatch(c.p)),
		int(C.llama_n_seq_max(c.p)), int(C.llama_n_threads(c.p)), int(C.llama_n_threads_batch(c.p))
}

// setAbort raises or lowers the abort flag polled by llama_decode.
func (c *nativeCtx) setAbort(on bool) {
	v := C.int(0)
	if on {
		v = 1
	}
	C.fak_flag_store(c.flag, v)
}

// nativeHeapInUse is the C heap in use (malloc'd, not yet freed) in
// bytes, or -1 where the C library does not say.
func nativeHeapInUse() int64 { return int64(C.fak_heap_inuse()) }

// nativeHeapTrim returns free C heap pages to the system, so that RSS
// reflects live memory.
func nativeHeapTrim() { C.fak_heap_trim() }

// abortRaised reads the abort flag.
func (c *nativeCtx) abortRaised() bool {
	return C.fak_flag_load(c.flag) != 0
}

// seqRm removes positions [p0, p1) of seq (p1 < 0: to the end).
func (c *nativeCtx) seqRm(seq, p0, p1 int) bool {
	return bool(C.llama_memory_seq_rm(C.llama_get_memory(c.p), C.llama_seq_id(seq), C.llama_pos(p0), C.llama_pos(p1)))
}

// seqPosMax is the largest position of seq in the cache, -1 when empty.
func (c *nativeCtx) seqPosMax(seq int) int {
	return int(C.llama_memory_seq_pos_max(C.llama_get_memory(c.p), C.llama_seq_id(seq)))
}

// seqPosMin is the smallest position of seq in the cache, -1 when empty.
func (c *nativeCtx) seqPosMin(seq int) int {
	return int(C.llama_memory_seq_pos_min(C.llama_get_memory(c.p), C.llama_seq_id(seq)))
}

// clearMemory empties the whole cache.
func (c *nativeCtx) clearMemory() {
	C.llama_memory_clear(C.llama_get_memory(c.p), true)
}

// decodeSeq runs llama_decode on toks (at most nBatch) at positions
// pos0.. of seq and returns llama_decode's status.
func (c *nativeCtx) decodeSeq(toks []int32, pos0, seq int, logitsLast bool) int {
	if len(toks) == 0 || len(toks) > c.nBatch {
		return -1
	}
	ll := C.int(0)
	if logitsLast {
		ll = 1
	}
	C.fak_batch_fill_seq(&c.batch, (*C.llama_token)(unsafe.Pointer(&toks[0])), C.int32_t(len(toks)),
		C.llama_pos(pos0), C.llama_seq_id(seq), ll)
	return int(C.llama_decode(c.p, c.batch))
}

// decodeMulti runs llama_decode on one token per entry, each with its own
// position and sequence, logits for every entry.
func (c *nativeCtx) decodeMulti(toks, pos, seq []int32) int {
	n := len(toks)
	if n == 0 || n > c.nBatch || len(pos) != n || len(seq) != n {
		return -1
	}
	C.fak_batch_fill_multi(&c.batch, (*C.llama_token)(unsafe.Pointer(&toks[0])),
		(*C.llama_pos)(unsafe.Pointer(&pos[0])), (*C.llama_seq_id)(unsafe.Pointer(&seq[0])), C.int32_t(n))
	return int(C.llama_decode(c.p, c.batch))
}

// argmax is the greedy token of output i of the last decode (-1: last),
// or -1 when that output has no logits.
func (c *nativeCtx) argmax(i int) int32 {
	return int32(C.fak_argmax_ith(c.p, C.int32_t(i), C.int32_t(c.nVocab)))
}

// logits is a view of output i's logits (-1: last) in llama.cpp's memory,
// valid until the next decode, or nil when that output has no logits.
func (c *nativeCtx) logits(i int) []float32 {
	v := C.llama_get_logits_ith(c.p, C.int32_t(i))
	if v == nil || c.nVocab == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(v)), c.nVocab)
}

// nativeVocab is a llama_model loaded with vocab_only: its tokenizer, no
// weights.
type nativeVocab struct {
	m *C.struct_llama_model
	v *C.struct_llama_vocab
}

// loadVocab loads only the vocabulary of a GGUF file (the caller validated
// the file).
func loadVocab(path string) (*nativeVocab, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	loadMu.Lock()
	m := C.fak_load_vocab(cpath)
	loadMu.Unlock()
	if m == nil {
		return nil, fmt.Errorf("llama_model_load_from_file (vocab_only) returned NULL (run with FAK_LLAMA_LOG=1 for llama.cpp's reason)")
	}
	return &nativeVocab{m: m, v: C.llama_model_get_vocab(m)}, nil
}

func (v *nativeVocab) free() {
	if v.m != nil {
		C.llama_model_free(v.m)
		v.m, v.v = nil, nil
	}
}

func (v *nativeVocab) nTokens() int { return int(C.llama_vocab_n_tokens(v.v)) }

// tokenize runs llama_tokenize, growing the buffer once when llama.cpp
// answers with the negated count it needs.
func (v *nativeVocab) tokenize(text string, addSpecial, parseSpecial bool) ([]int32, error) {
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	out := make([]int32, firstBufLen(len(text)+4))
	for range 2 {
		n := C.llama_tokenize(v.v, ctext, C.int32_t(len(text)), (*C.llama_token)(unsafe.Pointer(&out[0])),
			C.int32_t(len(out)), C.bool(addSpecial), C.bool(parseSpecial))
		switch {
		case n == C.INT32_MIN:
			return nil, fmt.Errorf("llama_tokenize: the token count of a %d-byte text overflows int32", len(text))
		case n >= 0:
			return out[:n:n], nil
		}
		out = make([]int32, -int(n))
	}
	return nil, fmt.Errorf("llama_tokenize asked for a larger buffer twice (%d tokens)", len(out))
}

// tokenPiece runs llama_token_to_piece (id already checked), growing the
// buffer once as llama_tokenize's protocol says.
func (v *nativeVocab) tokenPiece(id int32, special bool) ([]byte, error) {
	buf := make([]byte, firstBufLen(64))
	for range 2 {
		n := C.llama_token_to_piece(v.v, C.llama_token(id), (*C.char)(unsafe.Pointer(&buf[0])), C.int32_t(len(buf)), 0, C.bool(special))
		if n >= 0 {
			return buf[:n:n], nil
		}
		buf = make([]byte, -int(n))
	}
	return nil, fmt.Errorf("llama_token_to_piece(%d) asked for a larger buffer twice (%d bytes)", id, len(buf))
}

// detokenize runs llama_detokenize (ids already checked, at least one).
func (v *nativeVocab) detokenize(ids []int32, removeSpecial, unparseSpecial bool) (string, error) {
	buf := make([]byte, firstBufLen(16*len(ids)+16))
	for range 2 {
		n := C.llama_detokenize(v.v, (*C.llama_token)(unsafe.Pointer(&ids[0])), C.int32_t(len(ids)),
			(*C.char)(unsafe.Pointer(&buf[0])), C.int32_t(len(buf)), C.bool(removeSpecial), C.bool(unparseSpecial))
		switch {
		case n == C.INT32_MIN:
			return "", fmt.Errorf("llama_detokenize: the text of %d tokens overflows int32", len(ids))
		case n >= 0:
			return string(buf[:n]), nil
		}
		buf = make([]byte, -int(n))
	}
	return "", fmt.Errorf("llama_detokenize asked for a larger buffer twice (%d bytes)", len(buf))
}

// nativeTypeInfo is ggml's description of tensor type t; ok is false for
// a value that is no ggml type (outside the enum or removed).
func nativeTypeInfo(t int) (info typeInfo, ok bool) {
	var name *C.char
	var blck C.int64_t
	var size C.size_t
	var toFloat C.int
	if C.fak_type_traits(C.int(t), &name, &blck, &size, &toFloat) == 0 {
		return typeInfo{}, false
	}
	return typeInfo{name: C.GoString(name), blockSize: int(blck), typeSize: int(size), toFloat: toFloat != 0}, true
}

// nativeRowSize is ggml_row_size(t, n): the bytes of n values of type t.
func nativeRowSize(t, n int) int {
	return int(C.ggml_row_size(C.enum_ggml_type(t), C.int64_t(n)))
}

// nativeToFloat dequantizes n values of type t from data into out (the
// caller checked the type, n and both lengths; n > 0).
func nativeToFloat(t int, data []byte, out []float32) {
	C.fak_to_float(C.int(t), unsafe.Pointer(&data[0]), (*C.float)(unsafe.Pointer(&out[0])), C.int64_t(len(out)))
}

// nativeQuantizeRow quantizes src (one row, checked) to type t into dst,
// which holds ggml_row_size(t, len(src)) bytes, and returns the bytes
// ggml wrote.
func nativeQuantizeRow(t int, src []float32, dst []byte) int {
	return int(C.fak_quantize_row(C.int(t), (*C.float)(unsafe.Pointer(&src[0])), unsafe.Pointer(&dst[0]), C.int64_t(len(src))))
}

// nativeRequiresImatrix says ggml refuses to quantize type t without an
// importance matrix.
func nativeRequiresImatrix(t int) bool {
	return bool(C.ggml_quantize_requires_imatrix(C.enum_ggml_type(t)))
}

// nativeFtype maps a quantization type name (ftypeNames) to llama.h's
// llama_ftype value.
func nativeFtype(name string) (int, bool) {
	switch name {
	case "f32":
		return C.LLAMA_FTYPE_ALL_F32, true
	case "f16":
		return C.LLAMA_FTYPE_MOSTLY_F16, true
	case "bf16":
		return C.LLAMA_FTYPE_MOSTLY_BF16, true
	case "q4_0":
		return C.LLAMA_FTYPE_MOSTLY_Q4_0, true
	case "q4_1":
		return C.LLAMA_FTYPE_MOSTLY_Q4_1, true
	case "q5_0":
		return C.LLAMA_FTYPE_MOSTLY_Q5_0, true
	case "q5_1":
		return C.LLAMA_FTYPE_MOSTLY_Q5_1, true
	case "q8_0":
		return C.LLAMA_FTYPE_MOSTLY_Q8_0, true
	case "q2_k":
		return C.LLAMA_FTYPE_MOSTLY_Q2_K, true
	case "q3_k_s":
		return C.LLAMA_FTYPE_MOSTLY_Q3_K_S, true
	case "q3_k_m":
		return C.LLAMA_FTYPE_MOSTLY_Q3_K_M, true
	case "q3_k_l":
		return C.LLAMA_FTYPE_MOSTLY_Q3_K_L, true
	case "q4_k_s":
		return C.LLAMA_FTYPE_MOSTLY_Q4_K_S, true
	case "q4_k_m":
		return C.LLAMA_FTYPE_MOSTLY_Q4_K_M, true
	case "q5_k_s":
		return C.LLAMA_FTYPE_MOSTLY_Q5_K_S, true
	case "q5_k_m":
		return C.LLAMA_FTYPE_MOSTLY_Q5_K_M, true
	case "q6_k":
		return C.LLAMA_FTYPE_MOSTLY_Q6_K, true
	}
	return 0, false
}

// nativeQuantizeModel runs llama_model_quantize from in to out with the
// default parameters, ftype and nthread, and returns its status (0 done)
// with llama.cpp's log of the run, where it says why it failed.
func nativeQuantizeModel(in, out string, ftype, nthread int) (int, string) {
	cin := C.CString(in)
	defer C.free(unsafe.Pointer(cin))
	cout := C.CString(out)
	defer C.free(unsafe.Pointer(cout))
	loadMu.Lock()
	defer loadMu.Unlock()
	capturing := C.fak_capture_begin() != 0
	rc := C.fak_quantize_model(cin, cout, C.int(ftype), C.int(nthread))
	var logText string
	if capturing {
		buf := make([]byte, 256*1024)
		n := C.fak_capture_end((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
		logText = string(buf[:n])
	}
	return int(rc), logText
}
