package workload

import (
	"fmt"

	"github.com/fakbench/fakbench/transport"
)

// Encoder turns text into a model's token IDs (tokenizer.Tokenizer's
// Encode: addSpecial adds the BOS the model asks for).
type Encoder interface {
	Encode(text string, addSpecial bool) ([]int32, error)
}

// HasText says some turn gives its prompt as text (Tokenize must run
// before the workload is replayed).
func (w Workload) HasText() bool {
	for _, t := range w.Turns {
		if t.HasText() {
			return true
		}
	}
	return false
}

// Tokenize returns w with every text turn's prompt tokenized by enc: the
// stable text with the model's BOS and special-token strings parsed, the
// suffix text after it on its own (the cache boundary is a token
// boundary), and StableTokens and SuffixTokens set to the counts. Turns
// without text are left as they are. The error names the turn.
func (w Workload) Tokenize(enc Encoder) (Workload, error) {
	out := w
	out.Turns = make([]Turn, len(w.Turns))
	for i, t := range w.Turns {
		if t.HasText() {
			stable, err := enc.Encode(t.StableText, true)
			if err != nil {
				return Workload{}, fmt.Errorf("turns[%d].stable_text: %w", i, err)
			}
			suffix, err := enc.Encode(t.SuffixText, false)
			if err != nil {
				return Workload{}, fmt.Errorf("turns[%d].suffix_text: %w", i, err)
			}
			if len(suffix) == 0 {
				return Workload{}, fmt.Errorf("turns[%d].suffix_text %q gives no tokens: a prompt needs a position to predict from", i, t.SuffixText)
			}
			t.StableTokens, t.SuffixTokens = len(stable), len(suffix)
			t.prompt = append(append(make([]transport.Token, 0, len(stable)+len(suffix)), stable...), suffix...)
		}
		out.Turns[i] = t
	}
	return out, out.Validate()
}

// validateText checks a text turn (index i): a suffix text, and token
// counts that are either absent (before Tokenize) or the tokenized ones.
func (t Turn) validateText(i int) error {
	switch {
	case t.SuffixText == "":
		return fmt.Errorf("turns[%d].suffix_text is empty: a turn with text needs a suffix (a prompt needs a position to predict from)", i)
	case t.CompletionTokens < 1:
		return fmt.Errorf("turns[%d].completion_tokens = %d: must be >= 1", i, t.CompletionTokens)
	case t.prompt == nil && (t.StableTokens != 0 || t.SuffixTokens != 0):
		return fmt.Errorf("turns[%d] has text and stable_tokens %d, suffix_tokens %d: leave the counts out, the model's tokenizer counts the text", i, t.StableTokens, t.SuffixTokens)
	case t.prompt != nil && (t.SuffixTokens < 1 || len(t.prompt) != t.PromptTokens()):
		return fmt.Errorf("turns[%d]: %d tokenized prompt tokens for stable %d + suffix %d", i, len(t.prompt), t.StableTokens, t.SuffixTokens)
	}
	return nil
}

// promptTokens returns each turn's prompt IDs: the tokenized text of a
// text turn, else the first PromptTokens of its conversation's
// TokenStream. An untokenized text turn is an error naming it.
func promptTokens(w Workload, vocab int) ([][]transport.Token, error) {
	need := map[string]int{}
	for _, t := range w.Turns {
		need[t.Conversation] = max(need[t.Conversation], t.PromptTokens())
	}
	streams := map[string][]transport.Token{}
	out := make([][]transport.Token, len(w.Turns))
	for i, t := range w.Turns {
		if t.HasText() {
			if t.prompt == nil {
				return nil, fmt.Errorf("turns[%d] gives its prompt as text: tokenize the workload with the model's tokenizer first (Workload.Tokenize)", i)
			}
			for j, id := range t.prompt {
				if id < 0 || int(id) >= vocab {
					return nil, fmt.Errorf("turns[%d]: token %d of the prompt is %d, outside the vocabulary of %d", i, j, id, vocab)
				}
			}
			out[i] = t.prompt
			continue
		}
		s, ok := streams[t.Conversation]
		if !ok {
			s = TokenStream(t.Conversation, need[t.Conversation], vocab)
			streams[t.Conversation] = s
		}
		out[i] = s[:t.PromptTokens()]
	}
	return out, nil
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []transport.Token) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
