package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf/gguftest"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/tokenizer"
	"github.com/fakbench/fakbench/transport"
)

// noTokenizerModel writes the tiny synthetic model without its
// tokenizer.* metadata: a model that takes token IDs only.
func noTokenizerModel(t *testing.T) string {
	t.Helper()
	src, err := models.Path("synthetic:tiny:f32")
	require.NoError(t, err)
	return gguftest.NoTokenizer(t, src)
}

// tokenizerOf opens the tokenizer of the model file at path, closed when
// the test ends.
func tokenizerOf(t *testing.T, path string) *tokenizer.Tokenizer {
	t.Helper()
	tk, err := tokenizer.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { tk.Close() })
	return tk
}

func TestGenerateOptionsCheck(t *testing.T) {
	good := GenerateOptions{ModelSpec: "synthetic:tiny", Backends: []string{"gokernel"}, Text: "a", Tokens: DefaultGenerateTokens}
	o := good
	require.NoError(t, o.Check())
	for _, tc := range []struct {
		change func(*GenerateOptions)
		want   string
	}{
		{func(o *GenerateOptions) { o.ModelSpec = "" }, "missing --model"},
		{func(o *GenerateOptions) { o.Backends = nil }, "--backends names no backend"},
		{func(o *GenerateOptions) { o.Backends = []string{"gokernel", "nosuch"} }, "--backends"},
		{func(o *GenerateOptions) { o.Backends = []string{"gokernel", "gokernel"} }, "--backends names gokernel twice"},
		{func(o *GenerateOptions) { o.Tokens = 0 }, "--tokens must be at least 1, got 0"},
		{func(o *GenerateOptions) { o.Threads = -2 }, "--threads must not be negative"},
		{func(o *GenerateOptions) { o.CtxLen = -2 }, "--ctx must not be negative"},
	} {
		o := good
		tc.change(&o)
		assert.ErrorContains(t, o.Check(), tc.want)
	}
}

// The Go kernel continues a text on the synthetic model, whose tokenizer
// is SentencePiece over its filler pieces; the run is deterministic.
func TestGenerateSyntheticGoKernel(t *testing.T) {
	o := GenerateOptions{ModelSpec: "synthetic:tiny", Backends: []string{"gokernel"}, Text: "hello world", Tokens: 6, Threads: 1}
	require.NoError(t, o.Check())
	res, err := Generate(context.Background(), o)
	require.NoError(t, err)

	tk := tokenizerOf(t, res.ModelPath)
	want, err := tk.Encode("hello world", true)
	require.NoError(t, err)
	assert.Equal(t, want, res.PromptIDs)
	assert.Equal(t, "llama", res.Tokenizer)
	require.Len(t, res.Rows, 1)
	row := res.Rows[0]
	require.True(t, row.Ran(), "%+v", row)
	assert.Len(t, row.Tokens, 6)
	text, err := tk.Decode(row.Tokens)
	require.NoError(t, err)
	assert.Equal(t, text, row.Text)
	assert.True(t, res.Agree())
	assert.False(t, res.Failed())

	again, err := Generate(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, row.Tokens, again.Rows[0].Tokens, "greedy is deterministic")

	var out strings.Builder
	res.Describe(&out)
	assert.Contains(t, out.String(), "tokenizer  llama")
	assert.Contains(t, out.String(), `prompt     "hello world"`)
	assert.Contains(t, out.String(), "1 backend(s) ran: nothing to compare")
}

func TestGenerateInputErrors(t *testing.T) {
	ctx := context.Background()
	var ie *InputError

	_, err := Generate(ctx, GenerateOptions{ModelSpec: noTokenizerModel(t), Backends: []string{"gokernel"}, Text: "a", Tokens: 2})
	require.ErrorAs(t, err, &ie)
	assert.ErrorIs(t, err, tokenizer.ErrNoTokenizer)
	assert.Contains(t, err.Error(), "has no tokenizer, so it takes token IDs only")

	_, err = Generate(ctx, GenerateOptions{ModelSpec: filepath.Join(t.TempDir(), "missing.gguf"), Backends: []string{"gokernel"}, Text: "a", Tokens: 2})
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, err.Error(), "missing.gguf")

	_, err = Generate(ctx, GenerateOptions{ModelSpec: "synthetic:tiny", Backends: []string{"gokernel"}, Text: "a", Tokens: 100000, Threads: 1})
	require.ErrorAs(t, err, &ie)
	assert.True(t, transport.IsOverContext(err), "%v", err)

	_, err = Generate(ctx, GenerateOptions{ModelSpec: "synthetic:tiny", Backends: []string{"gokernel"}, Text: "bad \xff", Tokens: 2})
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, err.Error(), "not valid UTF-8")
}

func TestGenerateDescribeAndAgree(t *testing.T) {
	res := &GenerateResult{Model: "m", ModelPath: "/m.gguf", Tokenizer: "gpt2/smollm", Prompt: "hi", PromptIDs: []transport.Token{5, 6},
		Rows: []Continuation{
			{Backend: "a", Display: "A", Tokens: []transport.Token{1, 2, 3}, Text: " one two"},
			{Backend: "b", Display: "Bee", Tokens: []transport.Token{1, 2, 3}, Text: " one two"},
			{Backend: "c", Display: "C", Skipped: "no runtime"},
		}}
	assert.True(t, res.Agree())
	var out strings.Builder
	res.Describe(&out)
	assert.Contains(t, out.String(), "2 tokens [5 6]")
	assert.Contains(t, out.String(), "A    \" one two\"\n     [1 2 3]")
	assert.Contains(t, out.String(), "C    skipped: no runtime")
	assert.Contains(t, out.String(), "all 2 backends agree on all 3 tokens")

	res.Rows = append(res.Rows, Continuation{Backend: "d", Display: "D", Tokens: []transport.Token{1, 9, 9}, Text: " one nine"},
		Continuation{Backend: "e", Display: "E", Failed: "decode broke"})
	assert.False(t, res.Agree())
	assert.True(t, res.Failed())
	out.Reset()
	res.Describe(&out)
	assert.Contains(t, out.String(), "the backends disagree: D differs from A from token 1 on")
	assert.Contains(t, out.String(), "E    failed: decode broke")
}
