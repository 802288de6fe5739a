// Package kernels holds the numeric kernels of the Go kernel: weight
// matrix types, f16 conversion, q8_0 quantization, dot products and the
// matrix multiply used by both prefill (many tokens) and decode (one token).
//
// Every kernel has a pure-Go version (generic.go). Architecture-specific
// versions replace them at start-up when the CPU supports them; the pure-Go
// ones stay selectable for ablations and are the reference in tests.
package kernels

import "fmt"

// Type is a GGML tensor type id (the numbering of ggml.h and GGUF).
type Type uint32

// The tensor types the Go kernel computes with.
const (
	TypeF32  Type = 0
	TypeF16  Type = 1
	TypeQ8_0 Type = 8
)

// QK8_0 is the number of weights in one q8_0 block.
const QK8_0 = 32

// BlockQ8_0Bytes is the size of one q8_0 block: an f16 scale then 32 int8.
const BlockQ8_0Bytes = 2 + QK8_0

func (t Type) String() string {
	switch t {
	case TypeF32:
		return "f32"
	case TypeF16:
		return "f16"
	case TypeQ8_0:
		return "q8_0"
	case TypeBF16:
		return "bf16"
	}
	if qt := quantTypes[t]; qt != nil {
		return qt.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// RowBytes is the size in bytes of one row of cols elements of type t. It
// returns an error when cols does not fit the type's block size.
func RowBytes(t Type, cols int) (int, error) {
	switch t {
	case TypeF32:
		return 4 * cols, nil
	case TypeF16:
		return 2 * cols, nil
	case TypeQ8_0:
		if cols%QK8_0 != 0 {
			return 0, fmt.Errorf("q8_0 row of %d elements is not a multiple of %d", cols, QK8_0)
		}
		return cols / QK8_0 * BlockQ8_0Bytes, nil
	case TypeBF16:
		return 2 * cols, nil
	}
	if qt := quantTypes[t]; qt != nil {
		if cols%qt.block != 0 {
			return 0, fmt.Errorf("%s row of %d elements is not a multiple of %d", qt.name, cols, qt.block)
		}
		return cols / qt.block * qt.size, nil
	}
	return 0, fmt.Errorf("unsupported tensor type %v", t)
}

// Matrix is a weight matrix of Rows rows (output features) by Cols columns
// (input features), stored row-major in the layout of its GGML type: exactly
// the bytes of a GGUF tensor with dims [Cols, Rows].
type Matrix struct {
	Type     Type
	Rows     int
	Cols     int
	RowBytes int
	Data     []byte

	// once and pk hold the layout the matrix kernels read for types that
	// need one (packed.go), made by Prepare.
	once packedOnce
	pk   *packedMatrix
}

// NewMatrix checks that data holds rows x cols elements of type t.
func NewMatrix(t Type, rows, cols int, data []byte) (*Matrix, error) {
	rb, err := RowBytes(t, cols)
	if err != nil {
		return nil, err
	}
	if rows <= 0 || cols <= 0 {
		return nil, fmt.Errorf("matrix %dx%d: dimensions must be positive", rows, cols)
	}
	if len(data) != rows*rb {
		return nil, fmt.Errorf("matrix %dx%d %v: have %d bytes, want %d", rows, cols, t, len(data), rows*rb)
	}
	return &Matrix{Type: t, Rows: rows, Cols: cols, RowBytes: rb, Data: data}, nil
}

// Row returns the raw bytes of row r.
func (m *Matrix) Row(r int) []byte { return m.Data[r*m.RowBytes : (r+1)*m.RowBytes] }

// DequantRow writes row r of m as float32 into dst (len(dst) >= m.Cols).
func (m *Matrix) DequantRow(r int, dst []float32) {
	row := m.Row(r)
	switch m.Type {
	case TypeF32:
		for i := 0; i < m.Cols; i++ {
			dst[i] = f32le(row[4*i:])
		}
	case TypeF16:
		for i := 0; i < m.Cols; i++ {
			dst[i] = F16ToF32(uint16(row[2*i]) | uint16(row[2*i+1])<<8)
		}
	case TypeQ8_0:
		DequantizeQ8_0(dst[:m.Cols], row)
	case TypeBF16:
		for i := 0; i < m.Cols; i++ {
			dst[i] = BF16ToF32(uint16(row[2*i]) | uint16(row[2*i+1])<<8)
		}
	default:
		if qt := quantTypes[m.Type]; qt != nil {
			dequantBlocks(qt, dst, row, m.Cols)
		}
	}
}
