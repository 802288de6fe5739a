//go:build !cgo

package llamacpp

import "errors"

// Without cgo llama.cpp is not compiled in: Available reports the backend
// unavailable and Open stops there, so none of the functions below is
// reached; they exist so the package builds and the registry still lists
// the backend with its reason.

const nativeCompiled = false

var errNoNative = errors.New("llama.cpp is not compiled in (built without cgo)")

func nativeInit() error                      { return errNoNative }
func nativeSystemInfo() string               { return "" }
func nativeMaxSequences() int                { return 0 }
func nativeContextDefaults() contextDefaults { return contextDefaults{} }
func nativeHeapInUse() int64                 { return -1 }
func nativeHeapTrim()                        {}

type nativeModel struct{}

func loadModel(string, bool, bool) (*nativeModel, string, error) { return nil, "", errNoNative }
func (*nativeModel) free()                                       {}
func (*nativeModel) meta() modelMeta                             { return modelMeta{} }
func (*nativeModel) newContext(ctxParams) (*nativeCtx, error)    { return nil, errNoNative }

type nativeCtx struct{ nBatch int }

func (*nativeCtx) free()                                     {}
func (*nativeCtx) pause()                                    {}
func (*nativeCtx) settings() (int, int, int, int, int, int)  { return 0, 0, 0, 0, 0, 0 }
func (*nativeCtx) setAbort(bool)                             {}
func (*nativeCtx) seqRm(int, int, int) bool                  { return false }
func (*nativeCtx) seqPosMax(int) int                         { return -1 }
func (*nativeCtx) seqPosMin(int) int                         { return -1 }
func (*nativeCtx) clearMemory()                              {}
func (*nativeCtx) decodeSeq([]int32, int, int, bool) int     { return -1 }
func (*nativeCtx) decodeMulti([]int32, []int32, []int32) int { return -1 }
func (*nativeCtx) argmax(int) int32                          { return -1 }
func (*nativeCtx) logits(int) []float32                      { return nil }
func (*nativeCtx) abortRaised() bool                         { return false }

func amxCompiled() bool { return false }

type nativeVocab struct{}

func loadVocab(string) (*nativeVocab, error)                        { return nil, errNoNative }
func (*nativeVocab) free()                                          {}
func (*nativeVocab) nTokens() int                                   { return 0 }
func (*nativeVocab) tokenize(string, bool, bool) ([]int32, error)   { return nil, errNoNative }
func (*nativeVocab) tokenPiece(int32, bool) ([]byte, error)         { return nil, errNoNative }
func (*nativeVocab) detokenize([]int32, bool, bool) (string, error) { return "", errNoNative }

func nativeTypeInfo(int) (typeInfo, bool)                        { return typeInfo{}, false }
func nativeRowSize(int, int) int                                 { return 0 }
func nativeToFloat(int, []byte, []float32)                       {}
func nativeQuantizeRow(int, []float32, []byte) int               { return 0 }
func nativeRequiresImatrix(int) bool                             { return false }
func nativeFtype(string) (int, bool)                             { return 0, false }
func nativeQuantizeModel(string, string, int, int) (int, string) { return -1, "" }
