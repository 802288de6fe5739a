package gguf

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must return a File whose
// every tensor lies inside the data, or an *Error, and
// never panic. `go test` runs the seed corpus (valid files and mutations of
// them, plus testdata/fuzz/FuzzParse); `go test -fuzz FuzzParse` explores.
func FuzzParse(f *testing.F) {
	valid := encode(f, buildWriter(f, 0))
	f.Add(valid)
	f.Add(encode(f, buildWriter(f, 64)))
	small := NewWriter()
	_ = small.AddKV("general.architecture", "llama")
	_ = small.AddTensor("t", TypeF32, []uint64{2}, make([]byte, 8))
	smallBytes := encode(f, small)
	f.Add(smallBytes)
	f.Add([]byte{})
	f.Add([]byte("GGUF"))
	f.Add(valid[:len(valid)/2])
	for _, off := range []int{4, 8, 16, 24, 32, 40} {
		for _, v := range []uint64{0, 1, 1 << 32, 1 << 62, ^uint64(0)} {
			m := append([]byte(nil), smallBytes...)
			if off+8 <= len(m) {
				binary.LittleEndian.PutUint64(m[off:], v)
				f.Add(m)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.gguf", data)
		if err != nil {
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not a *gguf.Error", err)
			}
			return
		}
		for _, ti := range file.Tensors {
			b, err := file.TensorData(ti.Name)
			if err != nil {
				t.Fatalf("tensor %s: %v", ti.Name, err)
			}
			if int64(len(b)) != ti.Size {
				t.Fatalf("tensor %s: %d bytes, info says %d", ti.Name, len(b), ti.Size)
			}
		}
		for i, kv := range file.KVs {
			got, ok := file.Get(kv.Key)
			if !ok || got.Key != file.KVs[i].Key {
				t.Fatalf("key %q not indexed", kv.Key)
			}
		}
	})
}
