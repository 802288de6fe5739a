package gguf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// Writer builds a GGUF v3 file. Keys and tensors are written in insertion
// order and tensor data is padded to the alignment after every tensor (as
// ggml does), so the same calls always give the same bytes. Slices passed
// to AddKV and AddTensor are kept, not copied: do not modify them before
// WriteTo.
type Writer struct {
	alignment uint64
	alignErr  error
	kvs       []KV
	kvIdx     map[string]int
	tensors   []pendingTensor
	tensIdx   map[string]bool
}

type pendingTensor struct {
	info TensorInfo
	data []byte
	fill func(io.Writer) error
}

// NewWriter returns an empty writer with the default alignment (32).
func NewWriter() *Writer {
	return &Writer{alignment: DefaultAlignment, kvIdx: map[string]int{}, tensIdx: map[string]bool{}}
}

// SetAlignment sets the data alignment and records it as general.alignment
// (uint32). a must be a power of two below 2^32; otherwise WriteTo fails.
func (w *Writer) SetAlignment(a uint64) {
	if a == 0 || a&(a-1) != 0 || a > math.MaxUint32 {
		w.alignErr = fmt.Errorf("gguf writer: alignment %d is not a power of two below 2^32", a)
		return
	}
	w.alignErr = nil
	w.alignment = a
	kv := KV{Key: AlignmentKey, Type: ValueUint32, Value: uint32(a)}
	if i, ok := w.kvIdx[AlignmentKey]; ok {
		w.kvs[i] = kv
		return
	}
	w.kvIdx[AlignmentKey] = len(w.kvs)
	w.kvs = append(w.kvs, kv)
}

// AddKV adds a metadata pair. The Go type of value decides the GGUF type:
// uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32,
// float64, bool, string, a slice of one of those (an array), or []any whose
// elements are such slices (an array of arrays). int, uint and other types
// are refused, as are empty and duplicate keys. general.alignment must be a
// uint32 power of two and sets the alignment.
func (w *Writer) AddKV(key string, value any) error {
	if key == "" {
		return errors.New("gguf writer: empty metadata key")
	}
	if _, dup := w.kvIdx[key]; dup {
		return fmt.Errorf("gguf writer: duplicate metadata key %q", key)
	}
	vt, err := checkValue(value, 0)
	if err != nil {
		return fmt.Errorf("gguf writer: key %q: %w", key, err)
	}
	if key == AlignmentKey {
		a, ok := value.(uint32)
		if !ok || a == 0 || a&(a-1) != 0 {
			return fmt.Errorf("gguf writer: %s must be a uint32 power of two, got %T %v", AlignmentKey, value, value)
		}
		w.alignment = uint64(a)
		w.alignErr = nil
	}
	w.kvIdx[key] = len(w.kvs)
	w.kvs = append(w.kvs, KV{Key: key, Type: vt, Value: value})
	return nil
}

func checkValue(v any, depth int) (ValueType, error) {
	vt, _, ok := goValueType(v)
	if !ok {
		return 0, fmt.Errorf("unsupported value type %T (use a sized integer, float32/float64, bool, string or a slice of them)", v)
	}
	if outer, isNested := v.([]any); isNested {
		if depth+1 >= maxArrayDepth {
			return 0, fmt.Errorf("arrays nested deeper than %d", maxArrayDepth)
		}
		for i, e := range outer {
			if _, isSlice := sliceElemType(e); !isSlice {
				return 0, fmt.Errorf("array element %d: %T is not an array", i, e)
			}
			if _, err := checkValue(e, depth+1); err != nil {
				return 0, fmt.Errorf("array element %d: %w", i, err)
			}
		}
	}
	return vt, nil
}

func (w *Writer) checkTensor(name string, t TensorType, dims []uint64) (TensorInfo, error) {
	if err := checkName(name); err != nil {
		return TensorInfo{}, fmt.Errorf("gguf writer: %w", err)
	}
	if w.tensIdx[name] {
		return TensorInfo{}, fmt.Errorf("gguf writer: duplicate tensor name %q", name)
	}
	size, err := tensorSize(t, dims)
	if err != nil {
		return TensorInfo{}, fmt.Errorf("gguf writer: tensor %s: %w", name, err)
	}
	return TensorInfo{Name: name, Dims: append([]uint64(nil), dims...), Type: t, Size: size}, nil
}

// AddTensor adds a tensor with dims in GGUF order (ne0 first) and its raw
// bytes; len(data) must equal the size the type and dims imply.
func (w *Writer) AddTensor(name string, t TensorType, dims []uint64, data []byte) error {
	info, err := w.checkTensor(name, t, dims)
	if err != nil {
		return err
	}
	if int64(len(data)) != info.Size {
		return fmt.Errorf("gguf writer: tensor %s: have %d bytes, %v %v needs %d", name, len(data), t, dims, info.Size)
	}
	w.tensIdx[name] = true
	w.tensors = append(w.tensors, pendingTensor{info: info, data: data})
	return nil
}

// AddTensorFunc adds a tensor whose bytes are produced during WriteTo by
// fill, so a large model can be streamed instead of held in memory. fill
// must write exactly the size the type and dims imply.
func (w *Writer) AddTensorFunc(name string, t TensorType, dims []uint64, fill func(io.Writer) error) error {
	if fill == nil {
		return fmt.Errorf("gguf writer: tensor %s: nil fill function", name)
	}
	info, err := w.checkTensor(name, t, dims)
	if err != nil {
		return err
	}
	w.tensIdx[name] = true
	w.tensors = append(w.tensors, pendingTensor{info: info, fill: fill})
	return nil
}

// Tensors returns the infos of the tensors added so far, with the offsets
// WriteTo will give them.
func (w *Writer) Tensors() []TensorInfo {
	out := make([]TensorInfo, len(w.tensors))
	off := uint64(0)
	for i, t := range w.tensors {
		out[i] = t.info
		out[i].Offset = off
		off += alignUp(uint64(t.info.Size), w.alignment)
	}
	return out
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// countWriter counts bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// limitWriter passes at most max bytes and counts what fill tried to write.
type limitWriter struct {
	w       io.Writer
	max     int64
	written int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.written+int64(len(p)) > l.max {
		return 0, fmt.Errorf("fill wrote more than the tensor's %d bytes", l.max)
	}
	n, err := l.w.Write(p)
	l.written += int64(n)
	return n, err
}

var zeros [4096]byte

func writePad(w io.Writer, n uint64) error {
	for n > 0 {
		k := min(n, uint64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// WriteTo writes the GGUF v3 file to out and returns the number of bytes written.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	if w.alignErr != nil {
		return 0, w.alignErr
	}
	cw := &countWriter{w: out}
	var hdr bytes.Buffer
	le := binary.LittleEndian
	hdr.WriteString(Magic)
	hdr.Write(le.AppendUint32(nil, Version))
	hdr.Write(le.AppendUint64(nil, uint64(len(w.tensors))))
	hdr.Write(le.AppendUint64(nil, uint64(len(w.kvs))))
	for _, kv := range w.kvs {
		putString(&hdr, kv.Key)
		hdr.Write(le.AppendUint32(nil, uint32(kv.Type)))
		putValue(&hdr, kv.Value)
	}
	for _, t := range w.Tensors() {
		putString(&hdr, t.Name)
		hdr.Write(le.AppendUint32(nil, uint32(len(t.Dims))))
		for _, d := range t.Dims {
			hdr.Write(le.AppendUint64(nil, d))
		}
		hdr.Write(le.AppendUint32(nil, uint32(t.Type)))
		hdr.Write(le.AppendUint64(nil, t.Offset))
	}
	hdr.Write(zeros[:alignUp(uint64(hdr.Len()), w.alignment)-uint64(hdr.Len())])
	if _, err := cw.Write(hdr.Bytes()); err != nil {
		return cw.n, fmt.Errorf("gguf writer: header: %w", err)
	}
	for _, t := range w.tensors {
		if t.fill != nil {
			lw := &limitWriter{w: cw, max: t.info.Size}
			if err := t.fill(lw); err != nil {
				return cw.n, fmt.Errorf("gguf writer: tensor %s: %w", t.info.Name, err)
			}
			if lw.written != t.info.Size {
				return cw.n, fmt.Errorf("gguf writer: tensor %s: fill wrote %d bytes, want %d", t.info.Name, lw.written, t.info.Size)
			}
		} else if _, err := cw.Write(t.data); err != nil {
			return cw.n, fmt.Errorf("gguf writer: tensor %s: %w", t.info.Name, err)
		}
		if err := writePad(cw, alignUp(uint64(t.info.Size), w.alignment)-uint64(t.info.Size)); err != nil {
			return cw.n, fmt.Errorf("gguf writer: padding after tensor %s: %w", t.info.Name, err)
		}
	}
	return cw.n, nil
}

// WriteFile writes the file atomically: to a temporary file in the same
// directory, flushed and fsynced, then renamed over path.
func (w *Writer) WriteFile(path string) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("gguf writer: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o644); err != nil { // CreateTemp makes 0600; models are shared read-only
		return fmt.Errorf("gguf writer: %w", err)
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if _, err = w.WriteTo(bw); err != nil {
		return fmt.Errorf("gguf writer: %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("gguf writer: %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("gguf writer: %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("gguf writer: %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("gguf writer: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable where the platform allows it
		d.Close()
	}
	return nil
}

func putString(b *bytes.Buffer, s string) {
	putLen(b, len(s))
	b.WriteString(s)
}

// putValue encodes a value already accepted by checkValue.
func putValue(b *bytes.Buffer, v any) {
	le := binary.LittleEndian
	var buf [8]byte
	switch x := v.(type) {
	case uint8:
		b.WriteByte(x)
	case int8:
		b.WriteByte(byte(x))
	case bool:
		if x {
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
	case uint16:
		b.Write(le.AppendUint16(buf[:0], x))
	case int16:
		b.Write(le.AppendUint16(buf[:0], uint16(x)))
	case uint32:
		b.Write(le.AppendUint32(buf[:0], x))
	case int32:
		b.Write(le.AppendUint32(buf[:0], uint32(x)))
	case float32:
		b.Write(le.AppendUint32(buf[:0], math.Float32bits(x)))
	case uint64:
		b.Write(le.AppendUint64(buf[:0], x))
	case int64:
		b.Write(le.AppendUint64(buf[:0], uint64(x)))
	case float64:
		b.Write(le.AppendUint64(buf[:0], math.Float64bits(x)))
	case string:
		putString(b, x)
	default:
		et, _ := sliceElemType(v)
		b.Write(le.AppendUint32(buf[:0], uint32(et)))
		putArray(b, v)
	}
}

// putArray encodes an array value already accepted by checkValue: its
// length, then its elements.
func putArray(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case []uint8:
		putLen(b, len(x))
		b.Write(x)
	case []int8:
		putEach(b, x)
	case []bool:
		putEach(b, x)
	case []uint16:
		putEach(b, x)
	case []int16:
		putEach(b, x)
	case []uint32:
		putEach(b, x)
	case []int32:
		putEach(b, x)
	case []float32:
		putEach(b, x)
	case []uint64:
		putEach(b, x)
	case []int64:
		putEach(b, x)
	case []float64:
		putEach(b, x)
	case []string:
		putEach(b, x)
	case []any:
		putEach(b, x)
	}
}

// putLen encodes the length of an array or a string.
func putLen(b *bytes.Buffer, n int) { b.Write(binary.LittleEndian.AppendUint64(nil, uint64(n))) }

// putEach encodes x's length and then each element (putValue).
func putEach[T any](b *bytes.Buffer, x []T) {
	putLen(b, len(x))
	for _, e := range x {
		putValue(b, e)
	}
}
