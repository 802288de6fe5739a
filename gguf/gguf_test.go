package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allValues holds one value of every supported Go type, scalar and array.
func allValues() []KV {
	return []KV{
		{"u8", ValueUint8, uint8(250)},
		{"i8", ValueInt8, int8(-100)},
		{"u16", ValueUint16, uint16(65000)},
		{"i16", ValueInt16, int16(-32000)},
		{"u32", ValueUint32, uint32(4000000000)},
		{"i32", ValueInt32, int32(-2000000000)},
		{"u64", ValueUint64, uint64(1) << 63},
		{"i64", ValueInt64, int64(-1) << 62},
		{"f32", ValueFloat32, float32(3.25)},
		{"f64", ValueFloat64, math.Pi},
		{"bool.t", ValueBool, true},
		{"bool.f", ValueBool, false},
		{"str", ValueString, "héllo"},
		{"str.empty", ValueString, ""},
		{"a.u8", ValueArray, []uint8{1, 2, 255}},
		{"a.i8", ValueArray, []int8{-1, 0, 127}},
		{"a.u16", ValueArray, []uint16{1, 65535}},
		{"a.i16", ValueArray, []int16{-32768, 7}},
		{"a.u32", ValueArray, []uint32{0, 1 << 31}},
		{"a.i32", ValueArray, []int32{-5, 5}},
		{"a.u64", ValueArray, []uint64{math.MaxUint64}},
		{"a.i64", ValueArray, []int64{math.MinInt64, 3}},
		{"a.f32", ValueArray, []float32{-1.5, 0, float32(math.Inf(1))}},
		{"a.f64", ValueArray, []float64{1e-300, -2}},
		{"a.bool", ValueArray, []bool{true, false, true}},
		{"a.str", ValueArray, []string{"<s>", "", "x y"}},
		{"a.empty", ValueArray, []float32{}},
		{"a.nested", ValueArray, []any{[]int32{1, 2}, []string{"a"}, []any{[]uint8{9}}}},
	}
}

type testTensor struct {
	name string
	typ  TensorType
	dims []uint64
	data []byte
}

func testTensors() []testTensor {
	mk := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i*7)
		}
		return b
	}
	return []testTensor{
		{"token_embd.weight", TypeF32, []uint64{8, 3}, mk(8*3*4, 1)},
		{"blk.0.attn_q.weight", TypeQ8_0, []uint64{64, 2}, mk(2*2*34, 2)},
		{"blk.0.ffn_up.weight", TypeF16, []uint64{5}, mk(10, 3)},
		{"q41", TypeQ4_1, []uint64{32, 1, 1, 2}, mk(2*20, 4)},
		{"k", TypeQ6_K, []uint64{256}, mk(210, 5)},
	}
}

func buildWriter(t testing.TB, align uint64) *Writer {
	w := NewWriter()
	if align != 0 {
		w.SetAlignment(align)
	}
	for _, kv := range allValues() {
		require.NoError(t, w.AddKV(kv.Key, kv.Value))
	}
	for _, tt := range testTensors() {
		require.NoError(t, w.AddTensor(tt.name, tt.typ, tt.dims, tt.data))
	}
	return w
}

func encode(t testing.TB, w *Writer) []byte {
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

func requireBadModel(t *testing.T, err error, substr string) {
	t.Helper()
	require.Error(t, err)
	var ge *Error
	require.True(t, errors.As(err, &ge), "error %v is not a *gguf.Error", err)
	assert.NotEmpty(t, ge.File)
	if substr != "" {
		assert.Contains(t, err.Error(), substr)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, align := range []uint64{0, 64, 1} {
		data := encode(t, buildWriter(t, align))
		f, err := Parse("mem.gguf", data)
		require.NoError(t, err)
		assert.Equal(t, uint32(3), f.Version)
		want := uint64(DefaultAlignment)
		if align != 0 {
			want = align
		}
		assert.Equal(t, want, f.Alignment)
		assert.Equal(t, int64(len(data)), f.FileSize)
		assert.Zero(t, f.DataOffset%int64(want))

		kvs := f.KVs
		if align != 0 {
			require.Equal(t, AlignmentKey, kvs[0].Key)
			assert.Equal(t, uint32(align), kvs[0].Value)
			kvs = kvs[1:]
		}
		assert.Equal(t, allValues(), kvs)

		require.Len(t, f.Tensors, len(testTensors()))
		for i, tt := range testTensors() {
			info := f.Tensors[i]
			assert.Equal(t, tt.name, info.Name)
			assert.Equal(t, tt.typ, info.Type)
			assert.Equal(t, tt.dims, info.Dims)
			assert.Equal(t, int64(len(tt.data)), info.Size)
			assert.Zero(t, info.Offset%want)
			got, err := f.TensorData(tt.name)
			require.NoError(t, err)
			assert.Equal(t, tt.data, got)
			byName, ok := f.Tensor(tt.name)
			require.True(t, ok)
			assert.Equal(t, info, byName)
		}
		require.NoError(t, f.Close())
	}
}

func TestArrayType(t *testing.T) {
	kv := KV{Key: "x", Type: ValueArray, Value: []string{"a"}}
	et, ok := kv.ArrayType()
	require.True(t, ok)
	assert.Equal(t, ValueString, et)
	et, ok = KV{Type: ValueArray, Value: []any{}}.ArrayType()
	require.True(t, ok)
	assert.Equal(t, ValueArray, et)
	_, ok = KV{Type: ValueUint8, Value: uint8(1)}.ArrayType()
	assert.False(t, ok)
}

func TestDeterministic(t *testing.T) {
	a := encode(t, buildWriter(t, 0))
	b := encode(t, buildWriter(t, 0))
	assert.Equal(t, a, b)
}

func TestAccessors(t *testing.T) {
	f, err := Parse("mem.gguf", encode(t, buildWriter(t, 0)))
	require.NoError(t, err)

	s, err := f.String("str")
	require.NoError(t, err)
	assert.Equal(t, "héllo", s)
	_, err = f.String("u8")
	assert.ErrorContains(t, err, `key "u8" is uint8, want string`)
	_, err = f.String("missing")
	assert.ErrorIs(t, err, ErrNoKey)

	for key, want := range map[string]uint64{"u8": 250, "u16": 65000, "u32": 4000000000, "u64": 1 << 63} {
		u, err := f.Uint(key)
		require.NoError(t, err, key)
		assert.Equal(t, want, u, key)
	}
	_, err = f.Uint("i8")
	assert.ErrorContains(t, err, "negative")
	_, err = f.Uint("f32")
	assert.ErrorContains(t, err, "want an integer")
	_, err = f.Uint("missing")
	assert.ErrorIs(t, err, ErrNoKey)

	i, err := f.Int("i64")
	require.NoError(t, err)
	assert.Equal(t, int64(-1)<<62, i)
	i, err = f.Int("u32")
	require.NoError(t, err)
	assert.Equal(t, int64(4000000000), i)
	_, err = f.Int("u64")
	assert.ErrorContains(t, err, "overflows int64")

	x, err := f.Float("f32")
	require.NoError(t, err)
	assert.Equal(t, 3.25, x)
	x, err = f.Float("f64")
	require.NoError(t, err)
	assert.Equal(t, math.Pi, x)
	x, err = f.Float("i16")
	require.NoError(t, err)
	assert.Equal(t, -32000.0, x)
	x, err = f.Float("u64")
	require.NoError(t, err)
	assert.Equal(t, math.Ldexp(1, 63), x)
	_, err = f.Float("str")
	assert.ErrorContains(t, err, "want a number")

	b, err := f.Bool("bool.t")
	require.NoError(t, err)
	assert.True(t, b)
	_, err = f.Bool("u8")
	assert.Error(t, err)

	ss, err := f.Strings("a.str")
	require.NoError(t, err)
	assert.Equal(t, []string{"<s>", "", "x y"}, ss)
	_, err = f.Strings("a.u8")
	assert.ErrorContains(t, err, "want array of string")

	_, ok := f.Get("missing")
	assert.False(t, ok)
	_, ok = f.Tensor("missing")
	assert.False(t, ok)
	_, err = f.TensorData("missing")
	assert.ErrorContains(t, err, "no tensor")

	require.NoError(t, f.Close())
	require.NoError(t, f.Close())
	_, err = f.TensorData("token_embd.weight")
	assert.ErrorContains(t, err, "closed")
}

func TestVersions(t *testing.T) {
	data := encode(t, buildWriter(t, 0))
	v2 := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(v2[4:], 2)
	f, err := Parse("v2.gguf", v2)
	require.NoError(t, err)
	assert.Equal(t, uint32(2), f.Version)
	assert.Len(t, f.Tensors, len(testTensors()))

	for ver, msg := range map[uint32]string{
		0:          "bad GGUF version 0",
		1:          "version 1",
		4:          "version 4 is newer",
		0x03000000: "big-endian",
	} {
		b := append([]byte(nil), data...)
		binary.LittleEndian.PutUint32(b[4:], ver)
		_, err := Parse("v.gguf", b)
		requireBadModel(t, err, msg)
		assert.Contains(t, err.Error(), "v.gguf")
	}
}

func TestBadMagic(t *testing.T) {
	data := encode(t, buildWriter(t, 0))
	copy(data, "GGML")
	_, err := Parse("m.gguf", data)
	requireBadModel(t, err, `bad magic "GGML"`)
}

// TestTruncated parses every prefix of a valid file: each must fail cleanly
// until the last tensor's data is complete (the trailing padding is optional).
func TestTruncated(t *testing.T) {
	data := encode(t, buildWriter(t, 0))
	full, err := Parse("full", data)
	require.NoError(t, err)
	end := int64(0)
	for _, ti := range full.Tensors {
		end = max(end, full.DataOffset+int64(ti.Offset)+ti.Size)
	}
	for n := 0; n < len(data); n++ {
		_, err := Parse("trunc.gguf", data[:n])
		if int64(n) < end {
			requireBadModel(t, err, "")
		} else {
			assert.NoError(t, err, "prefix %d", n)
		}
	}
}

// raw builds GGUF bytes by hand, for headers the Writer refuses to make.
type raw struct{ bytes.Buffer }

func newRaw(version uint32, nTensors, nKV uint64) *raw {
	r := &raw{}
	r.WriteString(Magic)
	r.u32(version)
	r.u64(nTensors)
	r.u64(nKV)
	return r
}
func (r *raw) u32(v uint32) *raw { r.Write(binary.LittleEndian.AppendUint32(nil, v)); return r }
func (r *raw) u64(v uint64) *raw { r.Write(binary.LittleEndian.AppendUint64(nil, v)); return r }
func (r *raw) str(s string) *raw { r.u64(uint64(len(s))); r.WriteString(s); return r }
func (r *raw) kvU32(k string, v uint32) *raw {
	return r.str(k).u32(uint32(ValueUint32)).u32(v)
}
func (r *raw) tensor(name string, typ TensorType, off uint64, dims ...uint64) *raw {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(uint32(typ)).u64(off)
}
func (r *raw) pad(n int) *raw {
	for r.Len()%32 != 0 {
		r.WriteByte(0)
	}
	r.Write(make([]byte, n))
	return r
}

func TestHostileHeaders(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		msg  string
	}{
		{"huge kv count", newRaw(3, 0, 1<<62).Bytes(), "metadata key/value count 4611686018427387904 cannot fit"},
		{"huge tensor count", newRaw(3, 1<<40, 0).pad(64).Bytes(), "tensor count 1099511627776 cannot fit"},
		{"huge key length", newRaw(3, 0, 1).u64(1 << 40).pad(120).Bytes(), "metadata key 0: string length 1099511627776 exceeds remaining"},
		{"empty key", newRaw(3, 0, 1).str("").u32(0).WriteByteAnd(1), "empty key"},
		{"unknown value type", newRaw(3, 0, 1).str("k").u32(13).u32(0).Bytes(), "unknown value type 13"},
		{"huge string value", newRaw(3, 0, 1).str("k").u32(uint32(ValueString)).u64(1 << 40).pad(64).Bytes(), "metadata key 0 (k) value: string length"},
		{"huge array", newRaw(3, 0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueUint64)).u64(1 << 61).pad(64).Bytes(), "array of 2305843009213693952 uint64 elements"},
		{"array limit", newRaw(3, 0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueUint8)).u64(MaxArrayElements + 1).pad(MaxArrayElements + 8).Bytes(), "exceeds the reader's limit"},
		{"unknown array type", newRaw(3, 0, 1).str("k").u32(uint32(ValueArray)).u32(99).u64(0).Bytes(), "unknown array element type 99"},
		{"huge string in array", newRaw(3, 0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueString)).u64(2).u64(1 << 50).pad(40).Bytes(), "(k) element 0: string length 1125899906842624 exceeds remaining"},
		{"duplicate key", newRaw(3, 0, 2).kvU32("a", 1).kvU32("a", 2).Bytes(), "(a): duplicate key"},
		{"alignment type", newRaw(3, 0, 1).str(AlignmentKey).u32(uint32(ValueUint8)).WriteByteAnd(32), "must be uint32"},
		{"alignment power", newRaw(3, 0, 1).kvU32(AlignmentKey, 48).Bytes(), "48 is not a power of two"},
		{"alignment zero", newRaw(3, 0, 1).kvU32(AlignmentKey, 0).Bytes(), "0 is not a power of two"},
		{"too many dims", newRaw(3, 1, 0).str("t").u32(5).pad(64).Bytes(), "tensor t: 5 dimensions, want 1 to 4"},
		{"zero dims", newRaw(3, 1, 0).str("t").u32(0).pad(64).Bytes(), "0 dimensions"},
		{"zero dim", newRaw(3, 1, 0).tensor("t", TypeF32, 0, 4, 0).pad(64).Bytes(), "dimension 1 is zero"},
		{"dims overflow", newRaw(3, 1, 0).tensor("t", TypeF32, 0, 1<<32, 1<<32).pad(64).Bytes(), "element count overflows"},
		{"bytes overflow", newRaw(3, 1, 0).tensor("t", TypeF32, 0, 1<<31, 1<<31).pad(64).Bytes(), "byte size overflows"},
		{"unknown type", newRaw(3, 1, 0).tensor("t", 77, 0, 4).pad(64).Bytes(), "unknown tensor type 77"},
		{"removed type", newRaw(3, 1, 0).tensor("t", 31, 0, 32).pad(64).Bytes(), "q4_0_4_4"},
		{"block multiple", newRaw(3, 1, 0).tensor("t", TypeQ8_0, 0, 33).pad(64).Bytes(), "first dimension 33 is not a multiple of the q8_0 block size 32"},
		{"empty name", newRaw(3, 1, 0).tensor("", TypeF32, 0, 4).pad(64).Bytes(), "empty tensor name"},
		{"long name", newRaw(3, 1, 0).tensor(strings.Repeat("n", 64), TypeF32, 0, 4).pad(64).Bytes(), "exceeds ggml's limit of 63"},
		{"duplicate tensor", newRaw(3, 2, 0).tensor("t", TypeF32, 0, 8).tensor("t", TypeF32, 32, 8).pad(64).Bytes(), "tensor 1 (t): duplicate tensor name"},
		{"misaligned", newRaw(3, 1, 0).tensor("t", TypeF32, 4, 8).pad(64).Bytes(), "tensor t: data offset 4 is not a multiple of the alignment 32"},
		{"out of range", newRaw(3, 1, 0).tensor("t", TypeF32, 32, 8).pad(40).Bytes(), "tensor t: data [96, 128) beyond file size 104"},
		{"offset overflow", newRaw(3, 1, 0).tensor("t", TypeF32, 1<<63, 8).pad(40).Bytes(), "beyond file size"},
		{"overlap", newRaw(3, 2, 0).tensor("a", TypeF32, 0, 16).tensor("b", TypeF32, 32, 8).pad(128).Bytes(), "tensor b: data [32, 64) overlaps tensor a at [0, 64)"},
		{"data beyond", newRaw(3, 1, 0).tensor("t", TypeF32, 0, 8).Bytes(), "data section at offset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("hostile.gguf", c.data)
			requireBadModel(t, err, c.msg)
			assert.Contains(t, err.Error(), "hostile.gguf")
		})
	}
}

// WriteByteAnd appends one byte and returns the bytes (for one-byte values).
func (r *raw) WriteByteAnd(b byte) []byte { r.WriteByte(b); return r.Bytes() }

func TestNestingDepth(t *testing.T) {
	r := newRaw(3, 0, 1).str("k").u32(uint32(ValueArray))
	for i := 0; i < 20; i++ {
		r.u32(uint32(ValueArray)).u64(1)
	}
	r.u32(uint32(ValueUint8)).u64(0)
	_, err := Parse("deep.gguf", r.Bytes())
	requireBadModel(t, err, "nested deeper than 8")
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	require.NoError(t, buildWriter(t, 0).WriteFile(path))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "models are written world-readable")
	f, err := Open(path)
	require.NoError(t, err)
	assert.Equal(t, path, f.Path)
	d, err := f.TensorData("k")
	require.NoError(t, err)
	assert.Equal(t, testTensors()[4].data, d)
	require.NoError(t, f.Close())
	require.NoError(t, f.Close())
	_, err = f.TensorData("k")
	assert.Error(t, err)

	_, err = Open(filepath.Join(dir, "absent.gguf"))
	requireBadModel(t, err, "cannot open")
	_, err = Open(dir)
	requireBadModel(t, err, "not a regular file")
	empty := filepath.Join(dir, "empty.gguf")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err = Open(empty)
	requireBadModel(t, err, "too short")
	bad := filepath.Join(dir, "bad.gguf")
	require.NoError(t, os.WriteFile(bad, []byte("GGUF\x01\x00\x00\x00"), 0o644))
	_, err = Open(bad)
	requireBadModel(t, err, "version 1")
	assert.Contains(t, err.Error(), bad)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "temporary file left behind")
	}
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter()
	assert.ErrorContains(t, w.AddKV("", uint8(1)), "empty metadata key")
	assert.ErrorContains(t, w.AddKV("n", 5), "unsupported value type int")
	assert.ErrorContains(t, w.AddKV("m", map[string]int{}), "unsupported value type")
	assert.ErrorContains(t, w.AddKV("a", []any{uint8(1)}), "element 0: uint8 is not an array")
	assert.ErrorContains(t, w.AddKV("a", []any{[]int{1}}), "not an array")
	require.NoError(t, w.AddKV("k", "v"))
	assert.ErrorContains(t, w.AddKV("k", "w"), "duplicate metadata key")
	assert.ErrorContains(t, w.AddKV(AlignmentKey, uint64(64)), "must be a uint32 power of two")
	assert.ErrorContains(t, w.AddKV(AlignmentKey, uint32(3)), "must be a uint32 power of two")

	assert.ErrorContains(t, w.AddTensor("t", TypeF32, []uint64{4}, make([]byte, 15)), "have 15 bytes, f32 [4] needs 16")
	assert.ErrorContains(t, w.AddTensor("t", TypeQ8_0, []uint64{31}, nil), "not a multiple")
	assert.ErrorContains(t, w.AddTensor("t", 4, []uint64{32}, nil), "removed")
	assert.ErrorContains(t, w.AddTensor("", TypeF32, []uint64{1}, make([]byte, 4)), "empty tensor name")
	assert.ErrorContains(t, w.AddTensor("t", TypeF32, nil, nil), "0 dimensions")
	require.NoError(t, w.AddTensor("t", TypeF32, []uint64{1}, make([]byte, 4)))
	assert.ErrorContains(t, w.AddTensor("t", TypeF32, []uint64{1}, make([]byte, 4)), "duplicate tensor name")
	assert.ErrorContains(t, w.AddTensorFunc("f", TypeF32, []uint64{1}, nil), "nil fill")

	short := NewWriter()
	require.NoError(t, short.AddTensorFunc("f", TypeF32, []uint64{4}, func(w io.Writer) error {
		_, err := w.Write(make([]byte, 8))
		return err
	}))
	_, err := short.WriteTo(io.Discard)
	assert.ErrorContains(t, err, "fill wrote 8 bytes, want 16")

	long := NewWriter()
	require.NoError(t, long.AddTensorFunc("f", TypeF32, []uint64{1}, func(w io.Writer) error {
		_, err := w.Write(make([]byte, 8))
		return err
	}))
	_, err = long.WriteTo(io.Discard)
	assert.ErrorContains(t, err, "more than the tensor's 4 bytes")

	failing := NewWriter()
	require.NoError(t, failing.AddTensorFunc("f", TypeF32, []uint64{1}, func(io.Writer) error { return errors.New("boom") }))
	_, err = failing.WriteTo(io.Discard)
	assert.ErrorContains(t, err, "tensor f: boom")
	err = failing.WriteFile(filepath.Join(t.TempDir(), "x.gguf"))
	assert.ErrorContains(t, err, "boom")

	al := NewWriter()
	al.SetAlignment(48)
	_, err = al.WriteTo(io.Discard)
	assert.ErrorContains(t, err, "alignment 48 is not a power of two")

	assert.Error(t, NewWriter().WriteFile(filepath.Join(t.TempDir(), "no", "such", "dir", "x.gguf")))
}

func TestStreamedEqualsBuffered(t *testing.T) {
	buf := buildWriter(t, 0)
	str := NewWriter()
	for _, kv := range allValues() {
		require.NoError(t, str.AddKV(kv.Key, kv.Value))
	}
	for _, tt := range testTensors() {
		data := tt.data
		require.NoError(t, str.AddTensorFunc(tt.name, tt.typ, tt.dims, func(w io.Writer) error {
			// write in two pieces to exercise the counting
			if _, err := w.Write(data[:1]); err != nil {
				return err
			}
			_, err := w.Write(data[1:])
			return err
		}))
	}
	assert.Equal(t, encode(t, buf), encode(t, str))
	assert.Equal(t, buf.Tensors(), str.Tensors())
}

func TestTypeSizes(t *testing.T) {
	cases := map[TensorType][3]any{
		TypeF32: {"f32", 1, 4}, TypeF16: {"f16", 1, 2}, TypeQ4_0: {"q4_0", 32, 18},
		TypeQ4_1: {"q4_1", 32, 20}, TypeQ5_0: {"q5_0", 32, 22}, TypeQ5_1: {"q5_1", 32, 24},
		TypeQ8_0: {"q8_0", 32, 34}, TypeQ8_1: {"q8_1", 32, 36}, TypeQ2_K: {"q2_K", 256, 84},
		TypeQ3_K: {"q3_K", 256, 110}, TypeQ4_K: {"q4_K", 256, 144}, TypeQ5_K: {"q5_K", 256, 176},
		TypeQ6_K: {"q6_K", 256, 210}, TypeQ8_K: {"q8_K", 256, 292}, TypeIQ2_XXS: {"iq2_xxs", 256, 66},
		TypeIQ2_XS: {"iq2_xs", 256, 74}, TypeIQ3_XXS: {"iq3_xxs", 256, 98}, TypeIQ1_S: {"iq1_s", 256, 50},
		TypeIQ4_NL: {"iq4_nl", 32, 18}, TypeIQ3_S: {"iq3_s", 256, 110}, TypeIQ2_S: {"iq2_s", 256, 82},
		TypeIQ4_XS: {"iq4_xs", 256, 136}, TypeI8: {"i8", 1, 1}, TypeI16: {"i16", 1, 2},
		TypeI32: {"i32", 1, 4}, TypeI64: {"i64", 1, 8}, TypeF64: {"f64", 1, 8},
		TypeIQ1_M: {"iq1_m", 256, 56}, TypeBF16: {"bf16", 1, 2}, TypeTQ1_0: {"tq1_0", 256, 54},
		TypeTQ2_0: {"tq2_0", 256, 66}, TypeMXFP4: {"mxfp4", 32, 17},
	}
	assert.Len(t, traits, len(cases))
	for typ, c := range cases {
		assert.Equal(t, c[0], typ.String())
		assert.Equal(t, c[1], typ.BlockSize(), typ.String())
		assert.Equal(t, c[2], typ.TypeSize(), typ.String())
		assert.True(t, typ.Known())
	}
	assert.Equal(t, "q4_0_4_4(removed)", TensorType(31).String())
	assert.Equal(t, "type(99)", TensorType(99).String())
	assert.Zero(t, TensorType(99).BlockSize())
	assert.False(t, TensorType(4).Known())
	n, err := TypeQ4_1.RowSize(576)
	require.NoError(t, err)
	assert.Equal(t, int64(576/32*20), n)
	_, err = TypeQ4_1.RowSize(33)
	assert.Error(t, err)
	_, err = TensorType(99).RowSize(32)
	assert.Error(t, err)
	assert.Equal(t, "uint32", ValueUint32.String())
	assert.Equal(t, "valuetype(40)", ValueType(40).String())
	assert.Equal(t, int64(24), TensorInfo{Dims: []uint64{2, 3, 4}}.Elements())
}

func TestDecodeReadBytes(t *testing.T) {
	// A 4 x 10 f32 embedding table (160 bytes, 16 per row), a 6-element
	// norm (24), a 4 x 4 matrix (64) and 2 rotary factors (8).
	build := func(withOutput bool) *File {
		w := NewWriter()
		add := func(name string, dims ...uint64) {
			n := uint64(1)
			for _, d := range dims {
				n *= d
			}
			require.NoError(t, w.AddTensor(name, TypeF32, dims, make([]byte, 4*n)))
		}
		add("token_embd.weight", 4, 10)
		add("blk.0.attn_norm.weight", 6)
		add("blk.0.attn_q.weight", 4, 4)
		add("rope_freqs.weight", 2)
		if withOutput {
			add("output.weight", 4, 10)
		}
		f, err := Parse("mem.gguf", encode(t, w))
		require.NoError(t, err)
		t.Cleanup(func() { _ = f.Close() })
		return f
	}
	// Untied: one embedding row + norm + matrix + the output head.
	assert.Equal(t, int64(16+24+64+160), build(true).DecodeReadBytes())
	// Tied: the embedding table is the head, read in full.
	assert.Equal(t, int64(160+24+64), build(false).DecodeReadBytes())
}
