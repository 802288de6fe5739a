package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"sort"
	"sync"
)

// Format constants.
const (
	// Magic is the first four bytes of every GGUF file.
	Magic = "GGUF"
	// Version is the version the writer produces.
	Version = 3
	// DefaultAlignment is the data alignment when general.alignment is absent.
	DefaultAlignment = 32
	// AlignmentKey is the metadata key that overrides the alignment (uint32).
	AlignmentKey = "general.alignment"
	// MaxDims is the largest number of dimensions a tensor may have (ggml's GGML_MAX_DIMS).
	MaxDims = 4
	// MaxNameLen is the longest tensor name ggml accepts (GGML_MAX_NAME-1 bytes).
	MaxNameLen = 63
	// MaxArrayElements bounds the total number of metadata array elements in
	// one file, so a hostile header cannot make the reader allocate without
	// limit. Real tokenizers use well under a million.
	MaxArrayElements = 1 << 24
	// maxArrayDepth bounds nesting of arrays of arrays.
	maxArrayDepth = 8
)

// ErrNoKey is wrapped by the typed accessors when a key is absent.
var ErrNoKey = errors.New("metadata key not found")

// Error says a file cannot be used as GGUF: it cannot be read, it is
// malformed, or (from ReadLlamaParams) it lacks what a Llama model needs.
// Backends that report the typed model error wrap it into a
// *transport.BadModelError with the same File, Reason and Err, so the
// message is the same.
type Error struct {
	// File is the file name given to Open or Parse.
	File string
	// Reason says what is wrong, e.g. "cannot open" or a key name.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("gguf %s: %s", e.File, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// File is a parsed GGUF file. Its tensor data stays in the mapping (or the
// in-memory buffer given to Parse) until Close.
type File struct {
	// Path is the file name given to Open or Parse.
	Path string
	// Version is the GGUF version (2 or 3).
	Version uint32
	// Alignment is the data alignment (general.alignment or 32).
	Alignment uint64
	// DataOffset is the absolute file offset of the tensor data section.
	DataOffset int64
	// FileSize is the size of the file in bytes.
	FileSize int64
	// KVs holds the metadata in file order.
	KVs []KV
	// Tensors holds the tensor infos in file order.
	Tensors []TensorInfo

	mu      sync.Mutex
	data    []byte
	unmap   func([]byte) error
	mapped  bool // data is a shared read-only mapping of the file (Evict may drop pages)
	closed  bool
	kvIdx   map[string]int
	tensIdx map[string]int
}

// Open maps the file at path read-only, parses and validates it. The mapping
// is kept until Close; slices returned by TensorData are valid until then.
// Every error is an *Error naming the file.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Reason: "cannot open", Err: err}
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, &Error{File: path, Reason: "cannot stat", Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{File: path, Reason: "not a regular file"}
	}
	size := st.Size()
	if size < 4 {
		return nil, &Error{File: path, Reason: fmt.Sprintf("file of %d bytes is too short to be GGUF", size)}
	}
	if uint64(size) > uint64(math.MaxInt) {
		return nil, &Error{File: path, Reason: fmt.Sprintf("file of %d bytes is too large to map", size)}
	}
	data, unmap, err := mapFile(fh, int(size))
	if err != nil {
		return nil, &Error{File: path, Reason: "cannot map", Err: err}
	}
	f, err := Parse(path, data)
	if err != nil {
		_ = unmap(data)
		return nil, err
	}
	f.unmap = unmap
	f.mapped = fileMapped
	return f, nil
}

// Parse parses and validates an in-memory GGUF file; name is used in errors
// and as File.Path. The File refers to data (tensor data is not copied).
// Every error is an *Error.
func Parse(name string, data []byte) (*File, error) {
	d := &decoder{name: name, b: data}
	f := &File{Path: name, FileSize: int64(len(data)), data: data}
	if err := d.parse(f); err != nil {
		return nil, err
	}
	return f, nil
}

// Close releases the mapping. It is idempotent; after Close, TensorData
// fails and earlier slices from TensorData must no longer be used.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	data := f.data
	f.data = nil
	if f.unmap != nil {
		return f.unmap(data)
	}
	return nil
}

// Get returns the metadata pair with the given key.
func (f *File) Get(key string) (KV, bool) {
	i, ok := f.kvIdx[key]
	if !ok {
		return KV{}, false
	}
	return f.KVs[i], true
}

func (f *File) lookup(key string) (KV, error) {
	kv, ok := f.Get(key)
	if !ok {
		return KV{}, fmt.Errorf("gguf %s: key %q: %w", f.Path, key, ErrNoKey)
	}
	return kv, nil
}

func (f *File) typeErr(kv KV, want string) error {
	return fmt.Errorf("gguf %s: key %q is %v, want %s", f.Path, kv.Key, kv.Type, want)
}

// String returns a string value.
func (f *File) String(key string) (string, error) {
	kv, err := f.lookup(key)
	if err != nil {
		return "", err
	}
	s, ok := kv.Value.(string)
	if !ok {
		return "", f.typeErr(kv, "string")
	}
	return s, nil
}

// Uint returns an integer value of any unsigned type, or of a signed type
// when it is not negative.
func (f *File) Uint(key string) (uint64, error) {
	kv, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	switch v := kv.Value.(type) {
	case uint8:
		return uint64(v), nil
	case uint16:
		return uint64(v), nil
	case uint32:
		return uint64(v), nil
	case uint64:
		return v, nil
	}
	if i, ok := signedValue(kv.Value); ok {
		if i < 0 {
			return 0, fmt.Errorf("gguf %s: key %q is negative (%d), want an unsigned value", f.Path, key, i)
		}
		return uint64(i), nil
	}
	return 0, f.typeErr(kv, "an integer")
}

// Int returns an integer value of any signed type, or of an unsigned type
// when it fits int64.
func (f *File) Int(key string) (int64, error) {
	kv, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	if i, ok := signedValue(kv.Value); ok {
		return i, nil
	}
	u, err := f.Uint(key)
	if err != nil {
		return 0, err
	}
	if u > math.MaxInt64 {
		return 0, fmt.Errorf("gguf %s: key %q value %d overflows int64", f.Path, key, u)
	}
	return int64(u), nil
}

// Float returns a float32 or float64 value, or an integer value converted.
func (f *File) Float(key string) (float64, error) {
	kv, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	switch v := kv.Value.(type) {
	case float32:
		return float64(v), nil
	case float64:
		return v, nil
	}
	if i, ok := signedValue(kv.Value); ok {
		return float64(i), nil
	}
	if u, err := f.Uint(key); err == nil {
		return float64(u), nil
	}
	return 0, f.typeErr(kv, "a number")
}

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, error) {
	kv, err := f.lookup(key)
	if err != nil {
		return false, err
	}
	b, ok := kv.Value.(bool)
	if !ok {
		return false, f.typeErr(kv, "bool")
	}
	return b, nil
}

// Strings returns an array-of-strings value.
func (f *File) Strings(key string) ([]string, error) {
	kv, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	s, ok := kv.Value.([]string)
	if !ok {
		return nil, f.typeErr(kv, "array of string")
	}
	return s, nil
}

func signedValue(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.tensIdx[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// TensorData returns the bytes of the named tensor: a zero-copy slice of
// the mapping, valid until Close. Do not modify it.
func (f *File) TensorData(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, fmt.Errorf("gguf %s: tensor %q: file is closed", f.Path, name)
	}
	t, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("gguf %s: no tensor named %q", f.Path, name)
	}
	start := f.DataOffset + int64(t.Offset)
	return f.data[start : start+t.Size : start+t.Size], nil
}

// decoder reads little-endian GGUF fields, checking every length against
// what remains of the buffer.
type decoder struct {
	name     string
	b        []byte
	pos      int
	elements uint64 // array elements decoded so far
}

func (d *decoder) fail(format string, args ...any) error {
	return &Error{File: d.name, Reason: fmt.Sprintf(format, args...)}
}

func (d *decoder) remaining() uint64 { return uint64(len(d.b) - d.pos) }

func (d *decoder) need(n uint64, what string) error {
	if n > d.remaining() {
		return d.fail("%s: need %d bytes at offset %d, only %d remain (truncated file?)", what, n, d.pos, d.remaining())
	}
	return nil
}

func (d *decoder) u32(what string) (uint32, error) { return scalar[uint32](d, ValueUint32, what) }

func (d *decoder) u64(what string) (uint64, error) { return scalar[uint64](d, ValueUint64, what) }

// scalar reads one value of the fixed-size type t, whose Go type is T.
func scalar[T any](d *decoder, t ValueType, what string) (T, error) {
	sz := t.fixedSize()
	if err := d.need(uint64(sz), what); err != nil {
		var zero T
		return zero, err
	}
	v := fixed(t, d.b[d.pos:], -1).(T)
	d.pos += sz
	return v, nil
}

func (d *decoder) str(what string) (string, error) {
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > d.remaining() {
		return "", d.fail("%s: string length %d exceeds remaining %d bytes", what, n, d.remaining())
	}
	s := string(d.b[d.pos : d.pos+int(n)])
	d.pos += int(n)
	return s, nil
}

// strElem reads element i of a string array; the error context is only
// formatted on failure, since tokenizer arrays hold many thousands of strings.
func (d *decoder) strElem(what string, i int) (string, error) {
	if d.remaining() >= 8 {
		n := binary.LittleEndian.Uint64(d.b[d.pos:])
		if n <= d.remaining()-8 {
			start := d.pos + 8
			d.pos = start + int(n)
			return string(d.b[start:d.pos]), nil
		}
	}
	return d.str(fmt.Sprintf("%s element %d", what, i))
}

func (d *decoder) parse(f *File) error {
	if err := d.need(4, "magic"); err != nil {
		return err
	}
	if string(d.b[:4]) != Magic {
		return d.fail("bad magic %q at offset 0, not a GGUF file", d.b[:4])
	}
	d.pos = 4
	ver, err := d.u32("version")
	if err != nil {
		return err
	}
	switch {
	case ver == 0:
		return d.fail("bad GGUF version 0")
	case ver&0xffff == 0:
		return d.fail("GGUF version field %#x looks byte-swapped: big-endian GGUF files are not supported", ver)
	case ver == 1:
		return d.fail("GGUF version 1 (32-bit counts and lengths) is not supported; re-convert the model to version 2 or 3")
	case ver > Version:
		return d.fail("GGUF version %d is newer than the supported versions 2 and 3", ver)
	}
	f.Version = ver
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return err
	}
	nKV, err := d.u64("metadata key/value count")
	if err != nil {
		return err
	}
	// Each pair needs at least a key length (8), a type (4) and one value byte.
	if nKV > d.remaining()/13 {
		return d.fail("metadata key/value count %d cannot fit in the remaining %d bytes", nKV, d.remaining())
	}
	f.KVs = make([]KV, 0, min(nKV, 1024))
	f.kvIdx = make(map[string]int, min(nKV, 1024))
	for i := uint64(0); i < nKV; i++ {
		what := fmt.Sprintf("metadata key %d", i)
		key, err := d.str(what)
		if err != nil {
			return err
		}
		if key == "" {
			return d.fail("%s: empty key", what)
		}
		what = fmt.Sprintf("metadata key %d (%s)", i, key)
		if _, dup := f.kvIdx[key]; dup {
			return d.fail("%s: duplicate key", what)
		}
		vt, err := d.u32(what + " value type")
		if err != nil {
			return err
		}
		val, err := d.value(ValueType(vt), what, 0)
		if err != nil {
			return err
		}
		f.kvIdx[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{Key: key, Type: ValueType(vt), Value: val})
	}

	f.Alignment = DefaultAlignment
	if kv, ok := f.Get(AlignmentKey); ok {
		a, isU32 := kv.Value.(uint32)
		if !isU32 {
			return d.fail("%s is %v, must be uint32", AlignmentKey, kv.Type)
		}
		if a == 0 || a&(a-1) != 0 {
			return d.fail("%s %d is not a power of two", AlignmentKey, a)
		}
		f.Alignment = uint64(a)
	}

	// Each tensor info needs at least a name length (8), n_dims (4), one
	// dimension (8), a type (4) and an offset (8).
	if nTensors > d.remaining()/32 {
		return d.fail("tensor count %d cannot fit in the remaining %d bytes", nTensors, d.remaining())
	}
	f.Tensors = make([]TensorInfo, 0, min(nTensors, 4096))
	f.tensIdx = make(map[string]int, min(nTensors, 4096))
	for i := uint64(0); i < nTensors; i++ {
		t, err := d.tensorInfo(i)
		if err != nil {
			return err
		}
		if _, dup := f.tensIdx[t.Name]; dup {
			return d.fail("tensor %d (%s): duplicate tensor name", i, t.Name)
		}
		f.tensIdx[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}

	dataOff := (uint64(d.pos) + f.Alignment - 1) &^ (f.Alignment - 1)
	size := uint64(len(d.b))
	f.DataOffset = int64(dataOff)
	if len(f.Tensors) == 0 {
		return nil
	}
	if dataOff > size {
		return d.fail("data section at offset %d (header end %d aligned to %d) is beyond file size %d", dataOff, d.pos, f.Alignment, size)
	}
	avail := size - dataOff
	for _, t := range f.Tensors {
		if t.Offset%f.Alignment != 0 {
			return d.fail("tensor %s: data offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
		if t.Offset > avail || uint64(t.Size) > avail-t.Offset {
			return d.fail("tensor %s: data [%d, %d) beyond file size %d", t.Name,
				satAdd(dataOff, t.Offset), satAdd(satAdd(dataOff, t.Offset), uint64(t.Size)), size)
		}
	}
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })
	for k := 1; k < len(order); k++ {
		prev, cur := f.Tensors[order[k-1]], f.Tensors[order[k]]
		if cur.Offset < prev.Offset+uint64(prev.Size) {
			return d.fail("tensor %s: data [%d, %d) overlaps tensor %s at [%d, %d) (offsets in the data section)",
				cur.Name, cur.Offset, cur.Offset+uint64(cur.Size), prev.Name, prev.Offset, prev.Offset+uint64(prev.Size))
		}
	}
	return nil
}

func satAdd(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

func (d *decoder) tensorInfo(i uint64) (TensorInfo, error) {
	what := fmt.Sprintf("tensor %d", i)
	name, err := d.str(what + " name")
	if err != nil {
		return TensorInfo{}, err
	}
	if err := checkName(name); err != nil {
		return TensorInfo{}, d.fail("%s: %v", what, err)
	}
	what = "tensor " + name
	nd, err := d.u32(what + " dimension count")
	if err != nil {
		return TensorInfo{}, err
	}
	if nd == 0 || nd > MaxDims {
		return TensorInfo{}, d.fail("%s: %d dimensions, want 1 to %d", what, nd, MaxDims)
	}
	dims := make([]uint64, nd)
	for j := range dims {
		if dims[j], err = d.u64(fmt.Sprintf("%s dimension %d", what, j)); err != nil {
			return TensorInfo{}, err
		}
	}
	tt, err := d.u32(what + " type")
	if err != nil {
		return TensorInfo{}, err
	}
	size, err := tensorSize(TensorType(tt), dims)
	if err != nil {
		return TensorInfo{}, d.fail("%s: %v", what, err)
	}
	off, err := d.u64(what + " offset")
	if err != nil {
		return TensorInfo{}, err
	}
	return TensorInfo{Name: name, Dims: dims, Type: TensorType(tt), Offset: off, Size: size}, nil
}

func checkName(name string) error {
	if name == "" {
		return errors.New("empty tensor name")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("tensor name of %d bytes exceeds ggml's limit of %d", len(name), MaxNameLen)
	}
	return nil
}

// tensorSize validates a tensor's type and dimensions and returns its size
// in bytes, checking every product for overflow.
func tensorSize(t TensorType, dims []uint64) (int64, error) {
	tr, ok := traits[t]
	if !ok {
		if n, removed := removedTypes[t]; removed {
			return 0, fmt.Errorf("tensor type %d (%s) has been removed from ggml and is not supported", uint32(t), n)
		}
		return 0, fmt.Errorf("unknown tensor type %d", uint32(t))
	}
	if len(dims) == 0 || len(dims) > MaxDims {
		return 0, fmt.Errorf("%d dimensions, want 1 to %d", len(dims), MaxDims)
	}
	n := uint64(1)
	for j, dim := range dims {
		if dim == 0 {
			return 0, fmt.Errorf("dimension %d is zero (dims %v)", j, dims)
		}
		hi, lo := bits.Mul64(n, dim)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("dims %v: element count overflows int64", dims)
		}
		n = lo
	}
	if dims[0]%uint64(tr.block) != 0 {
		return 0, fmt.Errorf("first dimension %d is not a multiple of the %v block size %d", dims[0], t, tr.block)
	}
	hi, lo := bits.Mul64(n/uint64(tr.block), uint64(tr.size))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, fmt.Errorf("dims %v of %v: byte size overflows int64", dims, t)
	}
	return int64(lo), nil
}

// minEncoded is the smallest encoding of one value of type t.
func minEncoded(t ValueType) uint64 {
	switch t {
	case ValueString:
		return 8
	case ValueArray:
		return 12
	}
	return uint64(t.fixedSize())
}

func (d *decoder) value(t ValueType, what string, depth int) (any, error) {
	switch t {
	case ValueString:
		return d.str(what + " value")
	case ValueArray:
		return d.array(what, depth)
	}
	if t.fixedSize() > 0 {
		return scalar[any](d, t, what+" value")
	}
	return nil, d.fail("%s: unknown value type %d", what, uint32(t))
}

func (d *decoder) array(what string, depth int) (any, error) {
	if depth >= maxArrayDepth {
		return nil, d.fail("%s: arrays nested deeper than %d", what, maxArrayDepth)
	}
	et32, err := d.u32(what + " array element type")
	if err != nil {
		return nil, err
	}
	et := ValueType(et32)
	if et.fixedSize() < 0 {
		return nil, d.fail("%s: unknown array element type %d", what, et32)
	}
	n, err := d.u64(what + " array length")
	if err != nil {
		return nil, err
	}
	if per := minEncoded(et); n > d.remaining()/per {
		return nil, d.fail("%s: array of %d %v elements needs at least %d bytes per element, only %d bytes remain",
			what, n, et, per, d.remaining())
	}
	if n > MaxArrayElements-d.elements {
		return nil, d.fail("%s: array of %d elements exceeds the reader's limit of %d metadata array elements per file",
			what, n, MaxArrayElements)
	}
	d.elements += n
	cnt := int(n)
	if sz := et.fixedSize(); sz > 0 {
		v := fixed(et, d.b[d.pos:d.pos+cnt*sz], cnt)
		d.pos += cnt * sz
		return v, nil
	}
	if et == ValueString {
		out := make([]string, cnt)
		for i := range out {
			if out[i], err = d.strElem(what, i); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	out := make([]any, cnt)
	for i := range out {
		ew := fmt.Sprintf("%s element %d", what, i)
		if out[i], err = d.array(ew, depth+1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fixed decodes little-endian values of the fixed-size type t (a scalar
// type: t.fixedSize() > 0) from b: one value when n < 0, else a slice of n
// consecutive ones ([]uint8 ... []float64, []bool), the Go types KV.Value
// holds.
func fixed(t ValueType, b []byte, n int) any {
	le := binary.LittleEndian
	sz := t.fixedSize()
	switch t {
	case ValueUint8:
		return decode(b, n, sz, func(p []byte) uint8 { return p[0] })
	case ValueInt8:
		return decode(b, n, sz, func(p []byte) int8 { return int8(p[0]) })
	case ValueBool:
		return decode(b, n, sz, func(p []byte) bool { return p[0] != 0 })
	case ValueUint16:
		return decode(b, n, sz, le.Uint16)
	case ValueInt16:
		return decode(b, n, sz, func(p []byte) int16 { return int16(le.Uint16(p)) })
	case ValueUint32:
		return decode(b, n, sz, le.Uint32)
	case ValueInt32:
		return decode(b, n, sz, func(p []byte) int32 { return int32(le.Uint32(p)) })
	case ValueFloat32:
		return decode(b, n, sz, func(p []byte) float32 { return math.Float32frombits(le.Uint32(p)) })
	case ValueUint64:
		return decode(b, n, sz, le.Uint64)
	case ValueInt64:
		return decode(b, n, sz, func(p []byte) int64 { return int64(le.Uint64(p)) })
	case ValueFloat64:
		return decode(b, n, sz, func(p []byte) float64 { return math.Float64frombits(le.Uint64(p)) })
	}
	return nil // not reached: the callers pass a type of fixed size
}

// decode applies dec to the first sz bytes of b when n < 0, else to each of
// n consecutive sz-byte elements.
func decode[T any](b []byte, n, sz int, dec func([]byte) T) any {
	if n < 0 {
		return dec(b)
	}
	out := make([]T, n)
	for i := range out {
		out[i] = dec(b[i*sz:])
	}
	return out
}
