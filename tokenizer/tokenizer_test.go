package tokenizer

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
)

// byteLevel maps a byte to its symbol in GPT-2's byte-level alphabet.
func byteLevel(b byte) string {
	r := rune(b)
	switch {
	case r == 0xad:
		r = 0x143
	case r <= 0x20:
		r += 0x100
	case r >= 0x7f && r <= 0xa0:
		r += 0xa2
	}
	return string(r)
}

// bpeVocab is a small byte-level BPE vocabulary: every byte, the given
// merges (in rank order) and their results, then the given specials.
type bpeVocab struct {
	pre      string // "" leaves tokenizer.ggml.pre out
	merges   [][2]string
	specials []string // control tokens
	userDef  []string // user-defined tokens
	extraKV  map[string]any
	skipKeys map[string]bool
}

func (v bpeVocab) file(t *testing.T) *gguf.File {
	t.Helper()
	var tokens []string
	var types []int32
	for b := 0; b < 256; b++ {
		tokens = append(tokens, byteLevel(byte(b)))
		types = append(types, typeNormal)
	}
	var merges []string
	for _, m := range v.merges {
		merges = append(merges, m[0]+" "+m[1])
		tokens = append(tokens, m[0]+m[1])
		types = append(types, typeNormal)
	}
	for _, s := range v.specials {
		tokens = append(tokens, s)
		types = append(types, typeControl)
	}
	for _, s := range v.userDef {
		tokens = append(tokens, s)
		types = append(types, typeUserDefined)
	}
	kvs := map[string]any{
		KeyModel:     "gpt2",
		KeyTokens:    tokens,
		KeyTokenType: types,
		KeyMerges:    merges,
	}
	if v.pre != "" {
		kvs[KeyPre] = v.pre
	}
	for k, x := range v.extraKV {
		kvs[k] = x
	}
	return writeKVs(t, kvs, v.skipKeys)
}

// writeKVs builds an in-memory GGUF file with the given metadata.
func writeKVs(t *testing.T, kvs map[string]any, skip map[string]bool) *gguf.File {
	t.Helper()
	w := gguf.NewWriter()
	for _, k := range slices.Sorted(maps.Keys(kvs)) {
		if !skip[k] {
			require.NoError(t, w.AddKV(k, kvs[k]), k)
		}
	}
	var buf bytes.Buffer
	_, err := w.WriteTo(&buf)
	require.NoError(t, err)
	f, err := gguf.Parse("test.gguf", buf.Bytes())
	require.NoError(t, err)
	return f
}

func build(t *testing.T, v bpeVocab) *Tokenizer {
	t.Helper()
	tk, err := FromFile(v.file(t))
	require.NoError(t, err)
	return tk
}

// id is the ID of token text s in tk's vocabulary.
func id(t *testing.T, tk *Tokenizer, s string) int32 {
	t.Helper()
	i := slices.Index(tk.values, s)
	require.GreaterOrEqual(t, i, 0, "token %q", s)
	return int32(i)
}

func encode(t *testing.T, tk *Tokenizer, text string) []int32 {
	t.Helper()
	ids, err := tk.Encode(text, false)
	require.NoError(t, err, "%q", text)
	return ids
}

// ollama v0.17.4 re-emits the text before a run its expression does not
// match ("1ab1" became 1, 1, ab, 1 under smollm's digit split); the
// expressions made total keep each piece once.
func TestTextBetweenMatchesIsKeptOnce(t *testing.T) {
	tk := build(t, bpeVocab{pre: "smollm", merges: [][2]string{{"a", "b"}}})
	assert.Equal(t, []int32{'1', id(t, tk, "ab"), '1'}, encode(t, tk, "1ab1"))
	assert.Equal(t, []int32{'1', '2', ' ', id(t, tk, "ab"), '3'}, encode(t, tk, "12 ab3"))
	for _, text := range []string{"1ab1", "x\t\ty", "a  \n b", "9z9z9"} {
		ids := encode(t, tk, text)
		back, err := tk.Decode(ids)
		require.NoError(t, err)
		assert.Equal(t, text, back, "the pieces add up to the text")
	}
}

// \s is llama.cpp's whitespace: \v, U+00A0 and U+3000 are whitespace, so
// "\v!" is two pieces (a merge of the two never applies); under the
// engine's own \s ([\t\n\f\r ]) "\v!" was one piece and merged.
func TestWhitespaceIsLlamaCppWhitespace(t *testing.T) {
	tk := build(t, bpeVocab{pre: "gpt-2", merges: [][2]string{{byteLevel('\v'), "!"}, {"Ġ", "Âł"}}})
	assert.Equal(t, []int32{'\v', '!'}, encode(t, tk, "\v!"))
	// " \u00a0" is a run of two whitespace characters before a letter: the
	// space stays apart, as "\s+(?!\S)" leaves the last one.
	nbsp := encode(t, tk, "a \u00a0b")
	assert.NotContains(t, nbsp, id(t, tk, "ĠÂł"))

	expr, err := llamaSpace(`[^\s\p{L}]+|\s+(?!\S)`)
	require.NoError(t, err)
	re := regexp2.MustCompile(expr, regexp2.RE2)
	for _, ws := range []string{"\v", "\u0085", "\u00a0", "\u2003", "\u3000"} {
		m, err := re.FindStringMatch("x" + ws + ws)
		require.NoError(t, err)
		require.NotNil(t, m)
		assert.Equal(t, ws+ws, m.String(), "%q is whitespace", ws)
	}
	_, err = llamaSpace(`[\S]`)
	assert.ErrorContains(t, err, `\S inside a character class`)
}

// Special tokens are split off longest first, whatever their IDs.
func TestSpecialTokensLongestFirst(t *testing.T) {
	tk := build(t, bpeVocab{pre: "gpt-2", specials: []string{"<a>", "<a><b>", "<b>"}})
	assert.Equal(t, []int32{id(t, tk, "<a><b>")}, encode(t, tk, "<a><b>"))
	assert.Equal(t, []int32{id(t, tk, "<b>"), id(t, tk, "<a>")}, encode(t, tk, "<b><a>"))
	got := encode(t, tk, "x<a><b>y<a>")
	assert.Equal(t, []int32{'x', id(t, tk, "<a><b>"), 'y', id(t, tk, "<a>")}, got)
}

// Without parse-special, control tokens are text; user-defined ones are
// split off all the same (llama.cpp's rule).
func TestParseSpecialSwitch(t *testing.T) {
	tk := build(t, bpeVocab{pre: "gpt-2", specials: []string{"<|c|>"}, userDef: []string{"<u>"}})
	ctl, user := id(t, tk, "<|c|>"), id(t, tk, "<u>")
	on, err := tk.EncodeWith("<|c|><u>", Options{ParseSpecial: true})
	require.NoError(t, err)
	assert.Equal(t, []int32{ctl, user}, on)
	off, err := tk.EncodeWith("<|c|><u>", Options{})
	require.NoError(t, err)
	assert.NotContains(t, off, ctl)
	assert.Equal(t, user, off[len(off)-1])
	back, err := tk.Decode(off)
	require.NoError(t, err)
	assert.Equal(t, "<|c|><u>", back)
}

func TestBOSAndEOS(t *testing.T) {
	// gpt-2 pre: no BOS unless the file asks.
	tk := build(t, bpeVocab{pre: "gpt-2", specials: []string{"<s>", "</s>"}})
	ids, err := tk.Encode("a", true)
	require.NoError(t, err)
	assert.Equal(t, []int32{'a'}, ids)

	// llama3 pre: BOS by default.
	tk = build(t, bpeVocab{pre: "llama3", specials: []string{"<s>", "</s>"},
		extraKV: map[string]any{KeyBOS: uint32(256), KeyEOS: uint32(257)}})
	ids, err = tk.Encode("a", true)
	require.NoError(t, err)
	assert.Equal(t, []int32{256, 'a'}, ids)

	// The keys win.
	tk = build(t, bpeVocab{pre: "llama3", specials: []string{"<s>", "</s>"},
		extraKV: map[string]any{KeyBOS: uint32(256), KeyEOS: uint32(257), KeyAddBOS: false, KeyAddEOS: true}})
	ids, err = tk.Encode("a", true)
	require.NoError(t, err)
	assert.Equal(t, []int32{'a', 257}, ids)
	ids, err = tk.Encode("", true)
	require.NoError(t, err)
	assert.Equal(t, []int32{257}, ids)
	ids, err = tk.Encode("", false)
	require.NoError(t, err)
	assert.Empty(t, ids)
}

func TestNames(t *testing.T) {
	assert.Equal(t, "gpt2/smollm", build(t, bpeVocab{pre: "smollm"}).Name())
	assert.Equal(t, "gpt2/default", build(t, bpeVocab{}).Name(), "no pre key: llama.cpp's default")
	for _, pre := range PreTokenizers() {
		tk := build(t, bpeVocab{pre: pre})
		assert.Equal(t, "gpt2/"+pre, tk.Name())
		ids := encode(t, tk, "Hello  world 123\n\tdon't!")
		back, err := tk.Decode(ids)
		require.NoError(t, err)
		assert.Equal(t, "Hello  world 123\n\tdon't!", back, pre)
	}
	assert.Contains(t, PreTokenizers(), "llama-bpe")
	assert.Contains(t, PreTokenizers(), "qwen2")
}

func TestDecode(t *testing.T) {
	tk := build(t, bpeVocab{pre: "gpt-2", merges: [][2]string{{"Ġ", "a"}}, specials: []string{"<|e|>"}})
	ids := []int32{'x', id(t, tk, "Ġa"), id(t, tk, "<|e|>"), 0xc3, 0xa9}
	s, err := tk.Decode(ids)
	require.NoError(t, err)
	assert.Equal(t, "x a<|e|>é", s)
	// A cut UTF-8 sequence is returned as its bytes.
	s, err = tk.Decode([]int32{0xc3})
	require.NoError(t, err)
	assert.Equal(t, "\xc3", s)

	_, err = tk.Decode([]int32{'x', int32(tk.Size())})
	assert.ErrorContains(t, err, "outside the vocabulary")
	assert.ErrorContains(t, err, "at 1")
	_, err = tk.Decode([]int32{-1})
	assert.ErrorContains(t, err, "token -1")
}

func TestInvalidUTF8IsRefused(t *testing.T) {
	tk := build(t, bpeVocab{pre: "gpt-2"})
	_, err := tk.Encode("ok \xff bad", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not valid UTF-8")
	assert.Contains(t, err.Error(), "byte 3")
	_, err = tk.Encode("\xc0\x80", false)
	assert.ErrorContains(t, err, "byte 0")
}

func TestClose(t *testing.T) {
	tk := build(t, bpeVocab{pre: "gpt-2"})
	require.NoError(t, tk.Close())
	require.NoError(t, tk.Close(), "idempotent")
	_, err := tk.Encode("a", false)
	assert.ErrorIs(t, err, ErrClosed)
	_, err = tk.Decode([]int32{1})
	assert.ErrorIs(t, err, ErrClosed)
}

func TestBadFiles(t *testing.T) {
	good := bpeVocab{pre: "gpt-2", specials: []string{"<s>"}}
	for _, tc := range []struct {
		name, key, want string
		v               bpeVocab
	}{
		{"unknown pre", KeyPre, `pre-tokenizer "nonesuch" is not supported`, bpeVocab{pre: "nonesuch"}},
		{"unsupported model", KeyModel, `tokenizer model "bert" is not supported`, bpeVocab{extraKV: map[string]any{KeyModel: "bert"}}},
		{"model not a string", KeyModel, "", bpeVocab{extraKV: map[string]any{KeyModel: uint32(2)}}},
		{"no merges", KeyMerges, "needs its merges", bpeVocab{pre: "gpt-2", skipKeys: map[string]bool{KeyMerges: true}}},
		{"bad merge", KeyMerges, `merge 0 is "ab"`, bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyMerges: []string{"ab"}}}},
		{"no tokens", KeyTokens, "", bpeVocab{pre: "gpt-2", skipKeys: map[string]bool{KeyTokens: true}}},
		{"empty vocabulary", KeyTokens, "empty", bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyTokens: []string{}, KeyTokenType: []int32{}}}},
		{"duplicate token", KeyTokens, `tokens 0 and 1 are both "x"`, bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyTokens: []string{"x", "x"}, KeyTokenType: []int32{1, 1}}}},
		{"short token types", KeyTokenType, "has 2 entries for 256 tokens", bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyTokenType: []int32{1, 1}}}},
		{"token types not integers", KeyTokenType, "want an array of integers", bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyTokenType: []string{"a"}}}},
		{"scores not floats", KeyScores, "want an array of floats", bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyScores: []int32{1}}}},
		{"short scores", KeyScores, "has 1 entries", bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyScores: []float32{1}}}},
		{"bos outside", KeyBOS, "token 999999 is outside the vocabulary of 256 tokens", bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyBOS: uint32(999999)}}},
		{"eos negative", KeyEOS, "token -1 is outside", bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyEOS: int32(-1)}}},
		{"add_bos not bool", KeyAddBOS, "", bpeVocab{pre: "gpt-2", extraKV: map[string]any{KeyAddBOS: "yes"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromFile(tc.v.file(t))
			require.Error(t, err)
			var te *Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "test.gguf", te.File)
			assert.Equal(t, tc.key, te.Key)
			assert.Contains(t, err.Error(), "test.gguf")
			assert.Contains(t, err.Error(), tc.key)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotErrorIs(t, err, ErrNoTokenizer)
		})
	}
	_, err := FromFile(good.file(t))
	require.NoError(t, err, "the base vocabulary of the cases is good")
}

// Token types read alike from every integer array type; a value below -1
// or above 1<<30 is clamped to that range, and an absent key reads as nil.
func TestTokenTypesOfEveryIntegerType(t *testing.T) {
	for _, v := range []any{[]int32{1, 3, 6}, []uint32{1, 3, 6}, []int8{1, 3, 6}, []uint8{1, 3, 6},
		[]int16{1, 3, 6}, []uint16{1, 3, 6}, []int64{1, 3, 6}, []uint64{1, 3, 6}} {
		got, err := intArray(writeKVs(t, map[string]any{KeyTokenType: v}, nil), KeyTokenType, 3)
		require.NoError(t, err, "%T", v)
		assert.Equal(t, []int32{1, 3, 6}, got, "%T", v)
	}
	for _, c := range []struct {
		v    any
		want []int32
	}{
		{[]int64{-5, 1 << 40, 2}, []int32{-1, 1 << 30, 2}},
		{[]uint64{1 << 63, 4}, []int32{1 << 30, 4}},
		{[]uint32{1<<31 + 7, 0}, []int32{1 << 30, 0}},
		{[]int8{-128, 127}, []int32{-1, 127}},
	} {
		got, err := intArray(writeKVs(t, map[string]any{KeyTokenType: c.v}, nil), KeyTokenType, len(c.want))
		require.NoError(t, err, "%v", c.v)
		assert.Equal(t, c.want, got, "%v", c.v)
	}
	got, err := intArray(writeKVs(t, map[string]any{KeyModel: "gpt2"}, nil), KeyTokenType, 3)
	require.NoError(t, err)
	assert.Nil(t, got)
}

// A file without tokenizer metadata says so in a way callers can test.
func TestNoTokenizer(t *testing.T) {
	f := writeKVs(t, map[string]any{"general.architecture": "llama"}, nil)
	_, err := FromFile(f)
	require.ErrorIs(t, err, ErrNoTokenizer)
	assert.Contains(t, err.Error(), "test.gguf")
	assert.Contains(t, err.Error(), KeyModel)
	assert.Contains(t, err.Error(), "token IDs only")
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing.gguf"))
	var te *Error
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "missing.gguf")

	junk := filepath.Join(t.TempDir(), "junk.gguf")
	require.NoError(t, os.WriteFile(junk, []byte("not a gguf file at all"), 0o644))
	_, err = Open(junk)
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "junk.gguf")
	var ge *gguf.Error
	assert.ErrorAs(t, err, &ge, "the GGUF reader's error is kept")
}

func TestErrorMessage(t *testing.T) {
	e := &Error{File: "m.gguf", Key: KeyPre, Reason: "bad", Err: errors.New("inner")}
	assert.Equal(t, "tokenizer: m.gguf: tokenizer.ggml.pre: bad: inner", e.Error())
	assert.Equal(t, "inner", errors.Unwrap(e).Error())
}

// One tokenizer serves several goroutines (go test -race checks it).
func TestConcurrentUse(t *testing.T) {
	tk := build(t, bpeVocab{pre: "smollm", merges: [][2]string{{"a", "b"}, {"Ġ", "ab"}}, specials: []string{"<s>"}})
	want := encode(t, tk, "ab ab1<s>ab")
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				got, err := tk.Encode("ab ab1<s>ab", false)
				if err == nil && !slices.Equal(got, want) {
					err = errors.New("different IDs under concurrency")
				}
				if err == nil {
					_, err = tk.Decode(got)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
}
