package workload

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/tokenizer"
	"github.com/fakbench/fakbench/transport"
)

// A workload whose first conversation gives its prompts as text (each
// turn's stable text is the previous prompt and its answer) and whose
// second gives token counts.
const textWorkload = `{
  "version": "fakbench.workload/v1",
  "provenance": {"source": "test", "method": "written by hand"},
  "turns": [
    {"conversation": "chat", "stable_text": "you are a helpful assistant", "suffix_text": " what is a cache", "completion_tokens": 3},
    {"conversation": "chat", "stable_text": "you are a helpful assistant what is a cache it keeps things", "suffix_text": " and a prefix", "completion_tokens": 2},
    {"conversation": "ids", "stable_tokens": 6, "suffix_tokens": 2, "completion_tokens": 1}
  ]
}`

func synthTokenizer(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	path, err := models.Path("synthetic:tiny:f32")
	require.NoError(t, err)
	tk, err := tokenizer.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tk.Close() })
	return tk
}

func TestTextTurnsTokenizeAndReplay(t *testing.T) {
	w, err := Parse(strings.NewReader(textWorkload))
	require.NoError(t, err)
	require.True(t, w.HasText())
	assert.Equal(t, 0, w.Turns[0].PromptTokens(), "the file leaves the counts to the tokenizer")
	var shown strings.Builder
	w.Describe(&shown, "w.json")
	assert.Contains(t, shown.String(), "text")

	// Replaying before tokenizing is refused, naming the turn.
	open := func(context.Context) (transport.Session, error) { return &fakeSession{}, nil }
	_, err = Replay(context.Background(), open, w, ReplayOptions{Vocab: 512, Reps: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "turns[0] gives its prompt as text")

	tk := synthTokenizer(t)
	tw, err := w.Tokenize(tk)
	require.NoError(t, err)
	for i := range 2 {
		stable, err := tk.Encode(w.Turns[i].StableText, true)
		require.NoError(t, err)
		suffix, err := tk.Encode(w.Turns[i].SuffixText, false)
		require.NoError(t, err)
		assert.Equal(t, len(stable), tw.Turns[i].StableTokens, "turn %d", i)
		assert.Equal(t, len(suffix), tw.Turns[i].SuffixTokens, "turn %d", i)
		assert.Equal(t, append(stable, suffix...), tw.Turns[i].prompt, "turn %d", i)
	}
	assert.Equal(t, w.Turns[2], tw.Turns[2], "a turn without text is left alone")
	d0, _ := w.Digest()
	d1, _ := tw.Digest()
	assert.NotEqual(t, d0, d1, "the tokenized workload records the counts")

	// The sessions receive the tokenized text.
	var sessions []*recordingSession
	rec := func(context.Context) (transport.Session, error) {
		s := &recordingSession{}
		sessions = append(sessions, s)
		return s, nil
	}
	res, err := Replay(context.Background(), rec, tw, ReplayOptions{Vocab: tk.Size(), ContextLength: 256, Reps: 1})
	require.NoError(t, err)
	require.Len(t, sessions, 2, "one session per conversation")
	chat := sessions[0]
	require.Len(t, chat.prefixes, 2)
	assert.Equal(t, tw.Turns[0].prompt[:tw.Turns[0].StableTokens], chat.prefixes[0])
	assert.Equal(t, tw.Turns[1].prompt[:tw.Turns[1].StableTokens], chat.prefixes[1])
	assert.Equal(t, tw.Turns[1].prompt[tw.Turns[1].StableTokens:], chat.suffixes[1])

	// The second turn's stable text starts with the first prompt: the
	// reuse the plan guarantees is what their token IDs share.
	want := 0
	for want < len(tw.Turns[0].prompt) && tw.Turns[1].prompt[want] == tw.Turns[0].prompt[want] {
		want++
	}
	assert.Positive(t, want)
	assert.Equal(t, want, res.Turns[1].ExpectedMinReused)
	assert.GreaterOrEqual(t, res.Turns[1].ReusedTokens, want)

	// Caps cut the tokenized prompt too.
	capped, cr := ApplyCap(tw, 5)
	assert.Equal(t, 3, cr.CappedTurns, "both text turns and the 8-token one")
	assert.Equal(t, tw.Turns[0].prompt[:5], capped.Turns[0].prompt)
	require.NoError(t, capped.Validate())
}

func TestTextTurnErrors(t *testing.T) {
	head := `{"version": "fakbench.workload/v1", "provenance": {"source": "s", "method": "m"}, "turns": [`
	for _, tc := range []struct{ turns, want string }{
		{`{"stable_text": "a", "completion_tokens": 1}`, "turns[0].suffix_text is empty"},
		{`{"stable_text": "a", "suffix_text": "b", "stable_tokens": 4, "completion_tokens": 1}`, "leave the counts out"},
		{`{"suffix_text": "b", "completion_tokens": 0}`, "turns[0].completion_tokens = 0"},
		{`{"suffix_text": "b", "completion_tokens": 1}, {"stable_tokens": 1, "suffix_tokens": 1, "completion_tokens": 1}`,
			`turns[1]: conversation "" mixes turns with text and turns with token counts only`},
		{`{"suffix_txt": "b", "completion_tokens": 1}`, `unknown field "suffix_txt"`},
	} {
		_, err := Parse(strings.NewReader(head + tc.turns + "]}"))
		require.Error(t, err, tc.turns)
		assert.Contains(t, err.Error(), tc.want)
	}

	w, err := Parse(strings.NewReader(head + `{"stable_text": "a", "suffix_text": "b", "completion_tokens": 1}]}`))
	require.NoError(t, err)
	_, err = w.Tokenize(failingEncoder{})
	assert.ErrorContains(t, err, "turns[0].stable_text: no vocabulary")

	// Text that is not valid UTF-8 is refused by the tokenizer, naming the turn.
	w.Turns[0].SuffixText = "b\xff"
	_, err = w.Tokenize(synthTokenizer(t))
	assert.ErrorContains(t, err, "turns[0].suffix_text")
	assert.ErrorContains(t, err, "not valid UTF-8")
}

// failingEncoder is an Encoder whose model has no vocabulary.
type failingEncoder struct{}

func (failingEncoder) Encode(string, bool) ([]int32, error) {
	return nil, errors.New("no vocabulary")
}

// recordingSession is fakeSession that keeps what each turn sent.
type recordingSession struct {
	fakeSession
	prefixes, suffixes [][]transport.Token
}

func (r *recordingSession) EnsurePrefix(ctx context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	r.prefixes = append(r.prefixes, slices.Clone(in.Tokens))
	return r.fakeSession.EnsurePrefix(ctx, in)
}

func (r *recordingSession) PrefillSuffix(ctx context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	r.suffixes = append(r.suffixes, slices.Clone(in.Tokens))
	return r.fakeSession.PrefillSuffix(ctx, in)
}
