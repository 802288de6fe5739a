package tokenizer_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/tokenizer"
)

func encode(t *testing.T, tk *tokenizer.Tokenizer, text string) []int32 {
	t.Helper()
	ids, err := tk.Encode(text, false)
	require.NoError(t, err, "%q", text)
	return ids
}

// The synthetic models carry a SentencePiece vocabulary (models/gen.go):
// <unk>, <s>, </s>, the byte tokens <0x00>.., then "▁a", "a", "▁b", ...
func TestSyntheticSentencePiece(t *testing.T) {
	path, err := models.Path("synthetic:tiny:f32")
	require.NoError(t, err)
	tk, err := tokenizer.Open(path)
	require.NoError(t, err)
	defer tk.Close()
	assert.Equal(t, "llama", tk.Name())
	assert.Equal(t, path, tk.File())
	const bos, eos, unk, byte0, filler = models.TokenBOS, models.TokenEOS, models.TokenUnk, 3, 259

	ids, err := tk.Encode("a", true)
	require.NoError(t, err)
	assert.Equal(t, []int32{bos, filler}, ids, "BOS, then ▁a: the space prefix")
	assert.Equal(t, []int32{filler, filler + 2}, encode(t, tk, "a b"))
	// After a special token the space prefix comes again, as in llama.cpp.
	assert.Equal(t, []int32{eos, filler}, encode(t, tk, "</s>a"))
	// <unk> is special (unknown type) when special strings are parsed.
	assert.Equal(t, []int32{unk}, encode(t, tk, "<unk>")[:1])
	// é has no piece: its UTF-8 bytes.
	got := encode(t, tk, "é")
	assert.Equal(t, []int32{byte0 + 0xc3, byte0 + 0xa9}, got[len(got)-2:])

	for _, text := range []string{"a b c", "naïve café", "tab\there\nnewline", "x12345!? y"} {
		ids := encode(t, tk, text)
		back, err := tk.Decode(ids)
		require.NoError(t, err)
		assert.Equal(t, " "+text, back, "the pieces are the text with the space prefix")
	}
	back, err := tk.Decode([]int32{bos, filler, eos})
	require.NoError(t, err)
	assert.Equal(t, "<s> a</s>", back, "special tokens render as their text")
}

// The real SmolLM2 file (make setup fetches it): byte-level BPE with the
// smollm pre-tokenizer.
func TestRealSmolLM2(t *testing.T) {
	path, err := models.RealPath("smollm2")
	if err != nil {
		t.Skipf("real:smollm2 is absent (make setup fetches it): %v", err)
	}
	tk, err := tokenizer.Open(path)
	require.NoError(t, err)
	defer tk.Close()
	assert.Equal(t, "gpt2/smollm", tk.Name())
	assert.Equal(t, 49152, tk.Size())

	chat := "<|im_start|>user\nHi<|im_end|>"
	ids := encode(t, tk, chat)
	assert.Equal(t, int32(1), ids[0], "<|im_start|> is token 1")
	assert.Equal(t, int32(2), ids[len(ids)-1], "<|im_end|> is token 2")
	withBOS, err := tk.Encode(chat, true)
	require.NoError(t, err)
	assert.Equal(t, ids, withBOS, "add_bos_token is false in the file")

	// Digits are split one by one (smollm's \p{N} expression).
	assert.Len(t, encode(t, tk, "1234567"), 7)

	for _, text := range []string{"The capital of France is", "naïve 東京 😀", "func main() {\n\treturn\n}", "  \t\n  ", strings.Repeat("ab", 300)} {
		ids := encode(t, tk, text)
		back, err := tk.Decode(ids)
		require.NoError(t, err)
		assert.Equal(t, text, back)
	}
	words := encode(t, tk, "The capital of France is")
	assert.Len(t, words, 5, "one token a word")
}
