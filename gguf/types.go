// Package gguf reads and writes GGUF model files (versions 2 and 3), the
// container format of llama.cpp and ggml.
//
// A GGUF file is a little-endian header (magic "GGUF", version, tensor and
// metadata counts), typed metadata key/value pairs, tensor infos (name,
// dimensions, type, offset), padding to the alignment, and the tensor data
// section. The reader validates every length, count, dimension and offset
// against the file size before it allocates or slices anything, so a corrupt
// or hostile file yields an *Error, never a panic. The
// writer produces deterministic GGUF v3 bytes that llama.cpp loads.
package gguf

import "fmt"

// TensorType is a GGML tensor type id. The numbering is ggml.h's, the same
// as kernels.Type, so the two convert with a plain cast.
type TensorType uint32

// The GGML tensor types. Ids 4, 5, 31-33 and 36-38 belonged to layouts
// ggml has removed; files using them are rejected.
const (
	TypeF32     TensorType = 0
	TypeF16     TensorType = 1
	TypeQ4_0    TensorType = 2
	TypeQ4_1    TensorType = 3
	TypeQ5_0    TensorType = 6
	TypeQ5_1    TensorType = 7
	TypeQ8_0    TensorType = 8
	TypeQ8_1    TensorType = 9
	TypeQ2_K    TensorType = 10
	TypeQ3_K    TensorType = 11
	TypeQ4_K    TensorType = 12
	TypeQ5_K    TensorType = 13
	TypeQ6_K    TensorType = 14
	TypeQ8_K    TensorType = 15
	TypeIQ2_XXS TensorType = 16
	TypeIQ2_XS  TensorType = 17
	TypeIQ3_XXS TensorType = 18
	TypeIQ1_S   TensorType = 19
	TypeIQ4_NL  TensorType = 20
	TypeIQ3_S   TensorType = 21
	TypeIQ2_S   TensorType = 22
	TypeIQ4_XS  TensorType = 23
	TypeI8      TensorType = 24
	TypeI16     TensorType = 25
	TypeI32     TensorType = 26
	TypeI64     TensorType = 27
	TypeF64     TensorType = 28
	TypeIQ1_M   TensorType = 29
	TypeBF16    TensorType = 30
	TypeTQ1_0   TensorType = 34
	TypeTQ2_0   TensorType = 35
	TypeMXFP4   TensorType = 39
)

// qkK is the super-block size of the k-quants and i-quants (ggml's QK_K).
const qkK = 256

type typeTraits struct {
	name  string
	block int // elements per block
	size  int // bytes per block
}

// traits holds ggml's block and type sizes (ggml-common.h block layouts).
var traits = map[TensorType]typeTraits{
	TypeF32:     {"f32", 1, 4},
	TypeF16:     {"f16", 1, 2},
	TypeQ4_0:    {"q4_0", 32, 2 + 16},
	TypeQ4_1:    {"q4_1", 32, 4 + 16},
	TypeQ5_0:    {"q5_0", 32, 2 + 4 + 16},
	TypeQ5_1:    {"q5_1", 32, 4 + 4 + 16},
	TypeQ8_0:    {"q8_0", 32, 2 + 32},
	TypeQ8_1:    {"q8_1", 32, 4 + 32},
	TypeQ2_K:    {"q2_K", qkK, 4 + qkK/16 + qkK/4},
	TypeQ3_K:    {"q3_K", qkK, 2 + qkK/4 + qkK/8 + 12},
	TypeQ4_K:    {"q4_K", qkK, 4 + 12 + qkK/2},
	TypeQ5_K:    {"q5_K", qkK, 4 + 12 + qkK/2 + qkK/8},
	TypeQ6_K:    {"q6_K", qkK, 2 + qkK/16 + 3*qkK/4},
	TypeQ8_K:    {"q8_K", qkK, 4 + qkK + qkK/16*2},
	TypeIQ2_XXS: {"iq2_xxs", qkK, 2 + qkK/8*2},
	TypeIQ2_XS:  {"iq2_xs", qkK, 2 + qkK/8*2 + qkK/32},
	TypeIQ3_XXS: {"iq3_xxs", qkK, 2 + 3*(qkK/8)},
	TypeIQ1_S:   {"iq1_s", qkK, 2 + qkK/8 + qkK/16},
	TypeIQ4_NL:  {"iq4_nl", 32, 2 + 16},
	TypeIQ3_S:   {"iq3_s", qkK, 2 + 13*(qkK/32) + qkK/64},
	TypeIQ2_S:   {"iq2_s", qkK, 2 + qkK/4 + qkK/16},
	TypeIQ4_XS:  {"iq4_xs", qkK, 2 + 2 + qkK/64 + qkK/2},
	TypeI8:      {"i8", 1, 1},
	TypeI16:     {"i16", 1, 2},
	TypeI32:     {"i32", 1, 4},
	TypeI64:     {"i64", 1, 8},
	TypeF64:     {"f64", 1, 8},
	TypeIQ1_M:   {"iq1_m", qkK, qkK/8 + qkK/16 + qkK/32},
	TypeBF16:    {"bf16", 1, 2},
	TypeTQ1_0:   {"tq1_0", qkK, 2 + qkK/64 + (qkK-4*qkK/64)/5},
	TypeTQ2_0:   {"tq2_0", qkK, 2 + qkK/4},
	TypeMXFP4:   {"mxfp4", 32, 1 + 16},
}

// removedTypes names the ids ggml once used and has dropped.
var removedTypes = map[TensorType]string{
	4: "q4_2", 5: "q4_3", 31: "q4_0_4_4", 32: "q4_0_4_8", 33: "q4_0_8_8",
	36: "iq4_nl_4_4", 37: "iq4_nl_4_8", 38: "iq4_nl_8_8",
}

// String returns ggml's name for the type, e.g. "q8_0" or "q4_K".
func (t TensorType) String() string {
	if tr, ok := traits[t]; ok {
		return tr.name
	}
	if n, ok := removedTypes[t]; ok {
		return n + "(removed)"
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether t is a type this package knows the layout of.
func (t TensorType) Known() bool { _, ok := traits[t]; return ok }

// BlockSize returns the number of elements in one block of t (1 for the
// plain types such as f32 and f16), or 0 for an unknown type.
func (t TensorType) BlockSize() int { return traits[t].block }

// TypeSize returns the number of bytes in one block of t, or 0 for an
// unknown type.
func (t TensorType) TypeSize() int { return traits[t].size }

// RowSize returns the bytes of a row of n elements of type t. It fails for
// an unknown type or when n is not a multiple of the block size.
func (t TensorType) RowSize(n int64) (int64, error) {
	tr, ok := traits[t]
	if !ok {
		return 0, fmt.Errorf("unknown tensor type %v", t)
	}
	if n < 0 || n%int64(tr.block) != 0 {
		return 0, fmt.Errorf("%d elements of %v is not a multiple of its block size %d", n, t, tr.block)
	}
	return n / int64(tr.block) * int64(tr.size), nil
}

// ValueType is the type tag of a GGUF metadata value.
type ValueType uint32

// The GGUF metadata value types.
const (
	ValueUint8   ValueType = 0
	ValueInt8    ValueType = 1
	ValueUint16  ValueType = 2
	ValueInt16   ValueType = 3
	ValueUint32  ValueType = 4
	ValueInt32   ValueType = 5
	ValueFloat32 ValueType = 6
	ValueBool    ValueType = 7
	ValueString  ValueType = 8
	ValueArray   ValueType = 9
	ValueUint64  ValueType = 10
	ValueInt64   ValueType = 11
	ValueFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
	"bool", "string", "array", "uint64", "int64", "float64"}

// String returns the GGUF name of the value type, e.g. "uint32".
func (v ValueType) String() string {
	if int(v) < len(valueTypeNames) {
		return valueTypeNames[v]
	}
	return fmt.Sprintf("valuetype(%d)", uint32(v))
}

// fixedSize is the encoded size of a scalar of type v, 0 for string/array,
// -1 for an unknown type.
func (v ValueType) fixedSize() int {
	switch v {
	case ValueUint8, ValueInt8, ValueBool:
		return 1
	case ValueUint16, ValueInt16:
		return 2
	case ValueUint32, ValueInt32, ValueFloat32:
		return 4
	case ValueUint64, ValueInt64, ValueFloat64:
		return 8
	case ValueString, ValueArray:
		return 0
	}
	return -1
}

// KV is one metadata key/value pair. Value holds uint8, int8, uint16, int16,
// uint32, int32, uint64, int64, float32, float64, bool or string for scalars;
// an array is a typed slice ([]uint8 ... []string, []bool) and an array of
// arrays is []any whose elements are such slices.
type KV struct {
	Key   string
	Type  ValueType
	Value any
}

// ArrayType returns the element type of an array value (ValueArray for an
// array of arrays), and false when kv is not an array.
func (kv KV) ArrayType() (ValueType, bool) {
	if kv.Type != ValueArray {
		return 0, false
	}
	vt, _, ok := goValueType(kv.Value)
	if !ok || vt != ValueArray {
		return 0, false
	}
	et, _ := sliceElemType(kv.Value)
	return et, true
}

// TensorInfo describes one tensor: its name, dimensions in GGUF order (ne0,
// the number of columns / input features, first), type, offset relative to
// the data section, and size in bytes.
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   TensorType
	Offset uint64
	Size   int64
}

// Elements returns the number of elements of the tensor (the product of its
// dimensions; the reader has checked it does not overflow).
func (t TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= int64(d)
	}
	return n
}

// goValueType maps a Go value to its GGUF type. For a slice it returns
// ValueArray and the element type via sliceElemType.
func goValueType(v any) (ValueType, int, bool) {
	switch x := v.(type) {
	case uint8:
		return ValueUint8, 0, true
	case int8:
		return ValueInt8, 0, true
	case uint16:
		return ValueUint16, 0, true
	case int16:
		return ValueInt16, 0, true
	case uint32:
		return ValueUint32, 0, true
	case int32:
		return ValueInt32, 0, true
	case uint64:
		return ValueUint64, 0, true
	case int64:
		return ValueInt64, 0, true
	case float32:
		return ValueFloat32, 0, true
	case float64:
		return ValueFloat64, 0, true
	case bool:
		return ValueBool, 0, true
	case string:
		return ValueString, 0, true
	case []uint8:
		return ValueArray, len(x), true
	case []int8:
		return ValueArray, len(x), true
	case []uint16:
		return ValueArray, len(x), true
	case []int16:
		return ValueArray, len(x), true
	case []uint32:
		return ValueArray, len(x), true
	case []int32:
		return ValueArray, len(x), true
	case []uint64:
		return ValueArray, len(x), true
	case []int64:
		return ValueArray, len(x), true
	case []float32:
		return ValueArray, len(x), true
	case []float64:
		return ValueArray, len(x), true
	case []bool:
		return ValueArray, len(x), true
	case []string:
		return ValueArray, len(x), true
	case []any:
		return ValueArray, len(x), true
	}
	return 0, 0, false
}

// sliceElemType returns the GGUF element type of a supported slice.
func sliceElemType(v any) (ValueType, bool) {
	switch v.(type) {
	case []uint8:
		return ValueUint8, true
	case []int8:
		return ValueInt8, true
	case []uint16:
		return ValueUint16, true
	case []int16:
		return ValueInt16, true
	case []uint32:
		return ValueUint32, true
	case []int32:
		return ValueInt32, true
	case []uint64:
		return ValueUint64, true
	case []int64:
		return ValueInt64, true
	case []float32:
		return ValueFloat32, true
	case []float64:
		return ValueFloat64, true
	case []bool:
		return ValueBool, true
	case []string:
		return ValueString, true
	case []any:
		return ValueArray, true
	}
	return 0, false
}

// DecodeReadBytes is how many weight bytes one decoded token streams
// through a Llama-style forward pass that reads every matrix once: every
// tensor in full, except that the token embedding table contributes one row
// (a lookup), unless the model has no output.weight and the table doubles
// as the output head (tied embeddings), when it is read in full. Rotary
// frequency factors are read once per model, not per token, and do not
// count. It depends only on the file, so every backend's decode roofline in
// one run divides by the same figure.
func (f *File) DecodeReadBytes() int64 {
	_, hasOutput := f.Tensor("output.weight")
	var n int64
	for _, t := range f.Tensors {
		switch t.Name {
		case "rope_freqs.weight":
			continue
		case "token_embd.weight":
			if hasOutput && len(t.Dims) == 2 && t.Dims[1] > 0 {
				n += t.Size / int64(t.Dims[1])
				continue
			}
		}
		n += t.Size
	}
	return n
}
