package llamacpp

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/transport"
)

// The synthetic vocabulary (models/gen.go): <unk>=0, <s>=1, </s>=2, the
// byte tokens <0x00>.. from 3, then "▁a", "a", "▁b", "b", ... from 259.
const (
	synthBOS    = 1
	synthEOS    = 2
	synthByte0  = 3
	synthFiller = 259
)

func openVocab(t *testing.T, path string) *Vocab {
	t.Helper()
	requireNative(t)
	v, err := OpenVocab(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Close() })
	return v
}

func TestTokenizeSyntheticVocab(t *testing.T) {
	v := openVocab(t, tinyModel(t, "f32"))
	assert.Equal(t, 512, v.Size())

	// SentencePiece adds the space prefix: "a" is "▁a".
	ids, err := v.Tokenize("a", true, false)
	require.NoError(t, err)
	assert.Equal(t, []int32{synthBOS, synthFiller}, ids, "BOS, then ▁a")

	ids, err = v.Tokenize("a b", false, false)
	require.NoError(t, err)
	assert.Equal(t, []int32{synthFiller, synthFiller + 2}, ids, "▁a ▁b, no BOS without addSpecial")

	// é has no piece: byte fallback to its two UTF-8 bytes.
	ids, err = v.Tokenize("é", false, false)
	require.NoError(t, err)
	assert.Equal(t, []int32{synthByte0 + 0xC3, synthByte0 + 0xA9}, ids[len(ids)-2:])

	// "</s>" is the EOS token only when special strings are parsed.
	ids, err = v.Tokenize("</s>", false, true)
	require.NoError(t, err)
	assert.Equal(t, []int32{synthEOS}, ids)
	ids, err = v.Tokenize("</s>", false, false)
	require.NoError(t, err)
	assert.NotContains(t, ids, int32(synthEOS))

	ids, err = v.Tokenize("", false, false)
	require.NoError(t, err)
	assert.Empty(t, ids)
}

func TestTokenizeRoundTripAndPieces(t *testing.T) {
	v := openVocab(t, tinyModel(t, "f32"))
	// Words that start with a letter: the synthetic vocabulary has "▁a" to
	// "▁z..." but no lone "▁", so a space before anything else falls back
	// to the bytes of "▁" (the real model's test below covers those).
	for _, text := range []string{"a b c", "zz y x", "naïve café", "tab\there\nnewline", "x12345!? y"} {
		ids, err := v.Tokenize(text, true, false)
		require.NoError(t, err, text)
		require.Equal(t, int32(synthBOS), ids[0], text)
		got, err := v.Detokenize(ids, true, false)
		require.NoError(t, err, text)
		assert.Equal(t, " "+text, got, "detokenize(tokenize(x)) is x with the space prefix")

		var pieces []byte
		for _, id := range ids[1:] {
			p, err := v.TokenPiece(id, false)
			require.NoError(t, err)
			pieces = append(pieces, p...)
		}
		assert.Equal(t, text, strings.TrimPrefix(string(pieces), " "), "the pieces spell the text after the SentencePiece space prefix")
	}
	p, err := v.TokenPiece(synthEOS, true)
	require.NoError(t, err)
	assert.Equal(t, "</s>", string(p), "a special token rendered")
	p, err = v.TokenPiece(synthEOS, false)
	require.NoError(t, err)
	assert.Empty(t, p, "a special token not rendered")
}

// TestTokenizeBufferTooSmall makes every first call's buffer one element
// long, so llama.cpp answers with the negated size it needs and the second
// call must give the same result as a large enough first buffer.
func TestTokenizeBufferTooSmall(t *testing.T) {
	v := openVocab(t, tinyModel(t, "f32"))
	text := strings.Repeat("abc déf ", 40)
	want, err := v.Tokenize(text, true, false)
	require.NoError(t, err)
	wantText, err := v.Detokenize(want, false, true)
	require.NoError(t, err)
	wantPiece, err := v.TokenPiece(synthFiller+50, false)
	require.NoError(t, err)
	require.Greater(t, len(wantPiece), 1)

	bufStartOverride = 1
	defer func() { bufStartOverride = 0 }()
	got, err := v.Tokenize(text, true, false)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	gotText, err := v.Detokenize(want, false, true)
	require.NoError(t, err)
	assert.Equal(t, wantText, gotText)
	assert.Contains(t, gotText, "<s>")
	gotPiece, err := v.TokenPiece(synthFiller+50, false)
	require.NoError(t, err)
	assert.Equal(t, wantPiece, gotPiece)
}

func TestTokenizeRealModel(t *testing.T) {
	requireNative(t)
	path, err := models.RealPath("smollm2")
	if err != nil {
		t.Skip(err)
	}
	v := openVocab(t, path)
	assert.Equal(t, 49152, v.Size())
	ids, err := v.Tokenize("<|im_start|>user", false, true)
	require.NoError(t, err)
	require.Len(t, ids, 2, "the special string is one token, then 'user'")
	piece, err := v.TokenPiece(ids[0], true)
	require.NoError(t, err)
	assert.Equal(t, "<|im_start|>", string(piece))
	plain, err := v.Tokenize("<|im_start|>user", false, false)
	require.NoError(t, err)
	assert.Greater(t, len(plain), 2, "unparsed, the special string is plain text")
	assert.NotContains(t, plain, ids[0])

	for _, text := range []string{"The capital of France is", "  two  spaces, 123456 digits", "naïve 東京 😀", "func main() {\n\treturn\n}"} {
		ids, err := v.Tokenize(text, false, false)
		require.NoError(t, err)
		back, err := v.Detokenize(ids, false, false)
		require.NoError(t, err)
		assert.Equal(t, text, back)
	}
	// The one-shot helpers open and free the vocabulary each call.
	ids2, err := Tokenize(path, "The capital of France is", false, false)
	require.NoError(t, err)
	want, err := v.Tokenize("The capital of France is", false, false)
	require.NoError(t, err)
	assert.Equal(t, want, ids2)
	p, err := TokenPiece(path, want[1])
	require.NoError(t, err)
	assert.Equal(t, " capital", string(p))
}

func TestTokenizeErrors(t *testing.T) {
	if Available() != nil {
		_, err := OpenVocab(tinyModel(t, "f32"))
		var ue *transport.UnavailableError
		require.ErrorAs(t, err, &ue)
		_, err = Tokenize(tinyModel(t, "f32"), "a", false, false)
		require.ErrorAs(t, err, &ue)
		_, err = TokenPiece(tinyModel(t, "f32"), 1)
		require.ErrorAs(t, err, &ue)
		t.Skip("llama.cpp not compiled in: the rest needs it")
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.gguf")
	_, err := OpenVocab(missing)
	var bad *transport.BadModelError
	require.ErrorAs(t, err, &bad)
	assert.Contains(t, err.Error(), missing)

	junk := filepath.Join(dir, "junk.gguf")
	require.NoError(t, os.WriteFile(junk, []byte("not a gguf file at all"), 0o644))
	_, err = Tokenize(junk, "a", false, false)
	require.ErrorAs(t, err, &bad)
	assert.Contains(t, err.Error(), junk)

	_, err = OpenVocab("")
	require.Error(t, err)

	v := openVocab(t, tinyModel(t, "f32"))
	for _, id := range []int32{-1, 512, 1 << 30} {
		_, err := v.TokenPiece(id, false)
		require.Error(t, err, id)
		assert.Contains(t, err.Error(), "outside the vocabulary")
		_, err = v.Detokenize([]int32{synthFiller, id}, false, false)
		require.Error(t, err, id)
	}
	_, err = TokenPiece(tinyModel(t, "f32"), 512)
	assert.ErrorContains(t, err, "token id 512")
	s, err := v.Detokenize(nil, false, false)
	require.NoError(t, err)
	assert.Empty(t, s)

	require.NoError(t, v.Close())
	require.NoError(t, v.Close(), "closing twice is harmless")
	_, err = v.Tokenize("a", false, false)
	assert.True(t, errors.Is(err, transport.ErrClosed), "%v", err)
	_, err = v.TokenPiece(synthFiller, false)
	assert.True(t, errors.Is(err, transport.ErrClosed), "%v", err)
	_, err = v.Detokenize([]int32{synthFiller}, false, false)
	assert.True(t, errors.Is(err, transport.ErrClosed), "%v", err)
}
