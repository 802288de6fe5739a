package llamacpp

import (
	"fmt"
	"math"
	"sync"

	"github.com/fakbench/fakbench/transport"
)

// Vocab is the vocabulary of a GGUF file as llama.cpp loads it alone
// (llama_model_load_from_file with vocab_only: no weights), for
// tokenizing and detokenizing text exactly as llama.cpp does. It is the
// reference the in-repo tokenizer is checked against. A Vocab may be used
// from several goroutines; Close frees it.
type Vocab struct {
	path string
	mu   sync.RWMutex
	nv   *nativeVocab
	n    int
}

// OpenVocab loads the vocabulary of the GGUF file modelPath. The file is
// validated with the in-repo GGUF reader first (a bad file is a
// *transport.BadModelError naming it); without llama.cpp compiled in, or
// on a CPU lacking what it was compiled for, the error is a
// *transport.UnavailableError.
func OpenVocab(modelPath string) (*Vocab, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if modelPath == "" {
		return nil, fmt.Errorf("llamacpp: no model path given")
	}
	if err := nativeInit(); err != nil {
		return nil, err
	}
	if _, _, err := checkModelFile(modelPath); err != nil {
		return nil, err
	}
	nv, err := loadVocab(modelPath)
	if err != nil {
		return nil, &transport.BadModelError{File: modelPath, Reason: "llama.cpp cannot load its vocabulary", Err: err}
	}
	n := nv.nTokens()
	if n <= 0 {
		nv.free()
		return nil, &transport.BadModelError{File: modelPath, Reason: "llama.cpp reports an empty vocabulary"}
	}
	return &Vocab{path: modelPath, nv: nv, n: n}, nil
}

// Path is the model file the vocabulary was loaded from.
func (v *Vocab) Path() string { return v.path }

// Size is the number of tokens in the vocabulary (valid IDs are 0..Size-1).
func (v *Vocab) Size() int { return v.n }

// Close frees the vocabulary; later calls fail with transport.ErrClosed.
// Closing twice is harmless.
func (v *Vocab) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.nv != nil {
		v.nv.free()
		v.nv = nil
	}
	return nil
}

// Tokenize is llama_tokenize on text. addSpecial lets llama.cpp add the
// BOS/EOS tokens the model asks for; parseSpecial makes special-token
// strings (such as "<|im_start|>") their tokens instead of plain text.
func (v *Vocab) Tokenize(text string, addSpecial, parseSpecial bool) ([]int32, error) {
	if len(text) > math.MaxInt32-8 {
		return nil, fmt.Errorf("llamacpp: text of %d bytes is too long to tokenize (llama.cpp takes at most %d)", len(text), math.MaxInt32-8)
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.nv == nil {
		return nil, transport.ErrClosed
	}
	ids, err := v.nv.tokenize(text, addSpecial, parseSpecial)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: tokenizing with %s: %w", v.path, err)
	}
	return ids, nil
}

// TokenPiece is llama_token_to_piece: the bytes token id stands for (a
// piece may be part of a UTF-8 sequence). special renders special tokens
// as their text; otherwise they are empty.
func (v *Vocab) TokenPiece(id int32, special bool) ([]byte, error) {
	if err := v.checkID(id); err != nil {
		return nil, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.nv == nil {
		return nil, transport.ErrClosed
	}
	return v.nv.tokenPiece(id, special)
}

// Detokenize is llama_detokenize: the text of ids. removeSpecial drops the
// BOS/EOS tokens the model adds; unparseSpecial renders special tokens as
// their text. Every id must be in the vocabulary.
func (v *Vocab) Detokenize(ids []int32, removeSpecial, unparseSpecial bool) (string, error) {
	if len(ids) > math.MaxInt32/16-1 {
		return "", fmt.Errorf("llamacpp: %d tokens are too many to detokenize at once", len(ids))
	}
	for _, id := range ids {
		if err := v.checkID(id); err != nil {
			return "", err
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.nv == nil {
		return "", transport.ErrClosed
	}
	return v.nv.detokenize(ids, removeSpecial, unparseSpecial)
}

// checkID refuses a token ID outside the vocabulary before llama.cpp sees
// it (llama.cpp would throw, which ends the process across the C API).
func (v *Vocab) checkID(id int32) error {
	if id < 0 || int(id) >= v.n {
		return fmt.Errorf("llamacpp: token id %d is outside the vocabulary of %s (0..%d)", id, v.path, v.n-1)
	}
	return nil
}

// Tokenize loads the vocabulary of modelPath, tokenizes text with
// llama_tokenize (see Vocab.Tokenize) and frees the vocabulary. To
// tokenize many texts, open a Vocab once instead.
func Tokenize(modelPath string, text string, addSpecial, parseSpecial bool) ([]int32, error) {
	v, err := OpenVocab(modelPath)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	return v.Tokenize(text, addSpecial, parseSpecial)
}

// TokenPiece loads the vocabulary of modelPath and returns the bytes of
// token id, special tokens rendered as their text (see Vocab.TokenPiece).
func TokenPiece(modelPath string, id int32) ([]byte, error) {
	v, err := OpenVocab(modelPath)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	return v.TokenPiece(id, true)
}

// bufStartOverride, when positive, is the first buffer size the native
// tokenizer calls try, so that a test can make llama.cpp answer "too
// small" and exercise the second call.
var bufStartOverride int

// firstBufLen is the first buffer size to try: want, unless a test
// overrides it.
func firstBufLen(want int) int {
	if bufStartOverride > 0 {
		return bufStartOverride
	}
	return want
}
