package llamacpp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/transport"
)

// typeInfo is ggml's description of a tensor type (ggml_type_traits).
type typeInfo struct {
	name      string
	blockSize int  // values per block
	typeSize  int  // bytes per block
	toFloat   bool // ggml has a dequantization for it
}

// ggml type numbers used below (enum ggml_type in ggml.h; the same numbers
// as GGUF's tensor types).
const (
	ggmlF32  = 0
	ggmlF16  = 1
	ggmlQ4_0 = 2
	ggmlQ4_1 = 3
	ggmlQ5_0 = 6
	ggmlQ5_1 = 7
	ggmlQ8_0 = 8
	ggmlQ2_K = 10
	ggmlQ3_K = 11
	ggmlQ4_K = 12
	ggmlQ5_K = 13
	ggmlQ6_K = 14
	ggmlBF16 = 30
)

// quantizeRefTypes are the types QuantizeRef produces: those ggml
// quantizes without an importance matrix and the Go kernel reads.
var quantizeRefTypes = map[int]bool{
	ggmlF32: true, ggmlF16: true, ggmlBF16: true,
	ggmlQ4_0: true, ggmlQ4_1: true, ggmlQ5_0: true, ggmlQ5_1: true, ggmlQ8_0: true,
	ggmlQ2_K: true, ggmlQ3_K: true, ggmlQ4_K: true, ggmlQ5_K: true, ggmlQ6_K: true,
}

// lookupType is ggml's description of type t, or an error naming t when it
// is no ggml type.
func lookupType(t int) (typeInfo, error) {
	if err := Available(); err != nil {
		return typeInfo{}, err
	}
	info, ok := nativeTypeInfo(t)
	if !ok {
		return typeInfo{}, fmt.Errorf("llamacpp: unknown ggml type %d", t)
	}
	return info, nil
}

// Dequantize is ggml's own dequantization (ggml_get_type_traits(t)->to_float)
// of n values of ggml type ggmlType stored in data: the reference the Go
// kernel's dequantization is checked against. n must be a multiple of the
// type's block size and data must hold exactly ggml_row_size(type, n)
// bytes. F32 data is returned as it is.
func Dequantize(ggmlType int, data []byte, n int) ([]float32, error) {
	info, err := lookupType(ggmlType)
	if err != nil {
		return nil, err
	}
	if n < 0 || n%info.blockSize != 0 {
		return nil, fmt.Errorf("llamacpp: dequantize %s: %d values is not a multiple of its block size %d", info.name, n, info.blockSize)
	}
	if n/info.blockSize > math.MaxInt/max(info.typeSize, 1) {
		return nil, fmt.Errorf("llamacpp: dequantize %s: %d values is too many", info.name, n)
	}
	if want := nativeRowSize(ggmlType, n); len(data) != want {
		return nil, fmt.Errorf("llamacpp: dequantize %s: %d values take %d bytes, got %d", info.name, n, want, len(data))
	}
	out := make([]float32, n)
	if n == 0 {
		return out, nil
	}
	switch {
	case ggmlType == ggmlF32:
		for i := range out {
			out[i] = math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
		}
	case !info.toFloat:
		return nil, fmt.Errorf("llamacpp: ggml has no dequantization for type %s", info.name)
	default:
		nativeToFloat(ggmlType, data, out)
	}
	return out, nil
}

// QuantizeRef quantizes src as one row to ggml type ggmlType with ggml's
// own quantizer (ggml_quantize_chunk, no importance matrix): the blocks a
// llama.cpp quantizer writes into a model file. The types are F32, F16,
// BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K to Q6_K; len(src) must be a
// positive multiple of the type's block size.
func QuantizeRef(ggmlType int, src []float32) ([]byte, error) {
	info, err := lookupType(ggmlType)
	if err != nil {
		return nil, err
	}
	if !quantizeRefTypes[ggmlType] || nativeRequiresImatrix(ggmlType) {
		return nil, fmt.Errorf("llamacpp: quantize: type %s is not one QuantizeRef makes (f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_K, q3_K, q4_K, q5_K, q6_K)", info.name)
	}
	if len(src) == 0 || len(src)%info.blockSize != 0 {
		return nil, fmt.Errorf("llamacpp: quantize %s: %d values is not a positive multiple of its block size %d", info.name, len(src), info.blockSize)
	}
	dst := make([]byte, nativeRowSize(ggmlType, len(src)))
	if got := nativeQuantizeRow(ggmlType, src, dst); got != len(dst) {
		return nil, fmt.Errorf("llamacpp: quantize %s: ggml wrote %d bytes, want %d", info.name, got, len(dst))
	}
	return dst, nil
}

// ftypeNames are the model quantization types QuantizeModel knows, in
// llama.h's order (LLAMA_FTYPE_ALL_F32, LLAMA_FTYPE_MOSTLY_*).
var ftypeNames = []string{
	"f32", "f16", "q4_0", "q4_1", "q8_0", "q5_0", "q5_1",
	"q2_k", "q3_k_s", "q3_k_m", "q3_k_l", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k", "bf16",
}

// QuantizeTypes are the type names QuantizeModel accepts.
func QuantizeTypes() []string { return append([]string(nil), ftypeNames...) }

// QuantizeModel writes the GGUF model in, quantized to ftype (one of
// QuantizeTypes, such as q4_k_m), to out with llama.cpp's own quantizer
// (llama_model_quantize with its default parameters, as llama-quantize
// runs it): the K-quant mixes choose a type per tensor, and a tensor whose
// rows do not fit the type's blocks falls back to another. threads 0 is
// one per physical core. The file appears at out only when the quantizer
// succeeded. ctx is checked before the quantizer starts; once started it
// runs to the end.
func QuantizeModel(ctx context.Context, in, out, ftype string, threads int) error {
	if err := Available(); err != nil {
		return err
	}
	ft, ok := nativeFtype(ftype)
	if !ok {
		return fmt.Errorf("llamacpp: unknown quantization type %q (known: %s)", ftype, strings.Join(ftypeNames, ", "))
	}
	if threads < 0 {
		return fmt.Errorf("llamacpp: quantize: threads %d is negative", threads)
	}
	if threads == 0 {
		threads = host.PhysicalCores()
	}
	if out == "" {
		return errors.New("llamacpp: quantize: no output file given")
	}
	if err := nativeInit(); err != nil {
		return err
	}
	if _, _, err := checkModelFile(in); err != nil {
		return err
	}
	if abs, err := filepath.Abs(out); err == nil {
		if absIn, err := filepath.Abs(in); err == nil && absIn == abs {
			return fmt.Errorf("llamacpp: quantize: output %s is the input file", out)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("llamacpp: quantize: cannot write the output: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)
	rc, logText := nativeQuantizeModel(in, tmpName, ft, threads)
	if rc != 0 {
		return &transport.BadModelError{File: in, Reason: fmt.Sprintf("llama_model_quantize to %s returned %d%s", ftype, rc, quantizeFailure(logText))}
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return fmt.Errorf("llamacpp: quantize: %w", err)
	}
	if err := os.Rename(tmpName, out); err != nil {
		return fmt.Errorf("llamacpp: quantize: %w", err)
	}
	return nil
}

// quantizeFailure picks llama.cpp's reason out of the quantizer's log.
func quantizeFailure(logText string) string {
	var lines []string
	for _, l := range strings.Split(logText, "\n") {
		if strings.Contains(l, "failed") || strings.Contains(l, "error") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) == 0 {
		return " (run with FAK_LLAMA_LOG=1 for llama.cpp's reason)"
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return ": " + strings.Join(lines, "; ")
}
