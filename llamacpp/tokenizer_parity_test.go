package llamacpp_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/llamacpp"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/tokenizer"
)

// The in-repo tokenizer (package tokenizer: ollama's encoders fed from our
// GGUF reader) against llama.cpp's llama_tokenize and
// llama_token_to_piece, on both tokenizer types the project's models
// have: SentencePiece ("llama", the synthetic vocabulary) and byte-level
// BPE with the smollm pre-tokenizer (SmolLM2, when the real model is
// there).

// tokenizerCorpus is text of every kind the tokenizers split differently:
// the parity test runs all of it and the fuzz test starts from it.
var tokenizerCorpus = []string{
	// empty and ASCII
	"", "a", "The capital of France is", "Hello, world! How are you today?",
	"don't I'll we've they're she'd it's O'NEIL'S 'quoted' ''",
	// accented and other scripts
	"naïve café, résumé, Ærøskøbing, Straße, ĳssel", "e\u0301 (e + combining acute) vs é",
	"Привет, мир", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
	// CJK
	"日本語のテキストです。", "東京タワー", "中文分词测试：你好，世界！", "한국어 문장입니다", "ｆｕｌｌ　ｗｉｄｔｈ",
	// emoji
	"😀", "🙂 emoji 🎉🎉", "👩‍👩‍👧‍👦 family", "🇫🇷🇯🇵 flags", "👍🏽 tone", "a😀b",
	// code
	"func main() {\n\treturn x[i] + y->z // comment\n}",
	"def f(x):\n    return {'a': [1, 2, 3]}\n", "<div class=\"x\">&amp;</div>", "if (a != b && c <= d) { x++; }",
	"SELECT * FROM t WHERE id = 42;", "#include <stdio.h>\r\nint main(void);",
	// whitespace runs
	" ", "  ", "   leading", "trailing   ", "a  b   c    d", "\t", "\t\ttabs\t\t", "\n", "\n\n\n",
	"line1\nline2\r\nline3\rline4", " \n \t \r\n ", "a\u00a0b (no-break space)", "a\u3000b (ideographic space)",
	"a\u2009b\u200ab", "vertical\vtab and form\ffeed", "next\u0085line", "a \t\n b",
	"a\v!b", "end.\u00a0\u00a0Next", "x \u3000y", "runs\v\v\vof\u2003\u2003em", "!\u00a0?\u3000.",
	// digits
	"0", "42", "1234567890", "3.14159265358979323846", "1,000,000 and 1 000 000", "x1y22z333",
	"99999999999999999999999999999999", "١٢٣ ٤٥٦ (Arabic-Indic)", "Ⅻ ½ ² (other numbers)",
	// special-token strings (parsed when parse-special is on)
	"<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>",
	"<|im_start|><|im_end|>", "text<|im_end|>text", " <|im_start|> spaced ", "<|im_start", "im_start|>",
	"<s>", "</s>", "<unk>", "<s>a</s>", "<repo_name>x<file_sep>y", "<|<|im_end|>|>",
	// odd characters
	"\x00 nul", "\ufffd replacement", "\u0378 unassigned", "\ue000 private use", "\u200b zero width",
	"▁ lower one eighth block", "Ġ Ċ (byte-level alphabet)", "∀x∈ℝ: x² ≥ 0", "~!@#$%^&*()_+`-=[]{}|;':\",./<>?",
	strings.Repeat("abc", 200), strings.Repeat("1", 100),
	// repeated symbol pairs: where merges of equal rank compete
	"Wait... what?", "========", "--------------------", "        indented", "hmmmmmm",
}

// tieCorpus is text on which ollama's byte-level BPE breaks a tie between
// equal-rank merges differently from llama.cpp (see tieOnly): SmolLM2's
// IDs differ, in the way tieOnly allows and in no other. The test holds
// this list to what happens, so a fixed encoder shows up as a failure
// here (then move these to tokenizerCorpus and drop the allowance).
var tieCorpus = []string{
	" aaaa", "!!!!!!!", "\"count\":                     1", "\n\n\n\n\u2003", "\u2003\n\n\n", "{{9}}}},\n",
}

// tokPair is one model's two tokenizers.
type tokPair struct {
	name string
	bpe  bool // a byte-level BPE (gpt2) tokenizer
	ours *tokenizer.Tokenizer
	ref  *llamacpp.Vocab
}

// tokPairs opens both tokenizers of the synthetic tiny model and, when
// the file is there, of the real SmolLM2.
func tokPairs(tb testing.TB) []tokPair {
	tb.Helper()
	llamacpp.RequireNative(tb)
	synth, err := models.Path("synthetic:tiny:f32")
	require.NoError(tb, err)
	paths := []struct{ name, path string }{{"synthetic:tiny", synth}}
	if real, err := models.RealPath("smollm2"); err == nil {
		paths = append(paths, struct{ name, path string }{"real:smollm2", real})
	} else {
		tb.Logf("real:smollm2 not compared (the file is absent; make setup fetches it): %v", err)
	}
	var out []tokPair
	for _, p := range paths {
		ours, err := tokenizer.Open(p.path)
		require.NoError(tb, err, p.name)
		ref, err := llamacpp.OpenVocab(p.path)
		require.NoError(tb, err, p.name)
		tb.Cleanup(func() {
			_ = ours.Close()
			_ = ref.Close()
		})
		out = append(out, tokPair{name: p.name, ours: ours, ref: ref, bpe: strings.HasPrefix(ours.Name(), "gpt2/")})
	}
	return out
}

// checkSame asserts that both tokenizers give the same IDs for text under
// every combination of add-special and parse-special, and that Decode
// gives llama.cpp's pieces for them. It returns whether the IDs differed
// in the one allowed way (tieOnly).
func checkSame(t *testing.T, p tokPair, text string) (tie bool) {
	t.Helper()
	if !utf8.ValidString(text) {
		// Known divergence, on purpose: llama.cpp replaces each byte that
		// starts no UTF-8 sequence with U+FFFD but decodes overlong forms
		// and surrogates as code points (unicode_cpt_from_utf8 checks the
		// continuation bits only); the in-repo tokenizer refuses such text
		// with an error naming the byte, rather than guess.
		_, err := p.ours.Encode(text, false)
		require.Error(t, err, "%s: invalid UTF-8 %q", p.name, text)
		assert.Contains(t, err.Error(), "not valid UTF-8", p.name)
		return false
	}
	for _, o := range []tokenizer.Options{{}, {AddSpecial: true}, {ParseSpecial: true}, {AddSpecial: true, ParseSpecial: true}} {
		want, err := p.ref.Tokenize(text, o.AddSpecial, o.ParseSpecial)
		require.NoError(t, err, "%s llama.cpp %q", p.name, text)
		got, err := p.ours.EncodeWith(text, o)
		require.NoError(t, err, "%s %q", p.name, text)
		if len(want) == 0 {
			want = nil
		}
		if len(got) == 0 {
			got = nil
		}
		if p.bpe && tieOnly(t, p, got, want) {
			t.Logf("%s %+v: %q: ollama's BPE breaks a merge tie differently (allowed, see tieOnly): ours %v, llama.cpp %v", p.name, o, text, got, want)
			tie = true
			continue
		}
		if !assert.Equal(t, want, got, "%s %+v: token IDs of %q", p.name, o, text) {
			continue
		}
		checkDecode(t, p, got)
	}
	return tie
}

// checkDecode asserts that Decode(ids) is the concatenation of llama.cpp's
// pieces with special tokens rendered.
func checkDecode(t *testing.T, p tokPair, ids []int32) {
	t.Helper()
	var want strings.Builder
	for _, id := range ids {
		piece, err := p.ref.TokenPiece(id, true)
		require.NoError(t, err)
		want.Write(piece)
	}
	got, err := p.ours.Decode(ids)
	require.NoError(t, err)
	if got != want.String() {
		// Known divergence: ollama's byte-level BPE decoder drops the
		// token for byte 0x00 ("Ā", U+0100) where llama.cpp emits the
		// NUL byte. Only the NUL bytes may differ.
		assert.Equal(t, strings.ReplaceAll(want.String(), "\x00", ""), got, "%s: Decode(%v)", p.name, ids)
		assert.Contains(t, want.String(), "\x00", "%s: Decode(%v) differs by more than NUL bytes", p.name, ids)
	}
}

// tieOnly reports whether got and want, the IDs of one text, differ only
// where ollama's byte-level BPE breaks a tie between two merges of equal
// rank differently from llama.cpp. This is the one known divergence on
// valid text (docs/models.md, "Tokenizer"): llama.cpp (like Hugging Face's
// tokenizers and GPT-2's reference BPE) applies the leftmost of equal-rank
// merges first, ollama's merge heap (tokenizer/bytepairencoding.go in
// v0.17.4) compares ranks only, so which of two equal candidates it takes
// depends on the heap. llama.cpp is right. With the heap ordered by (rank,
// position) the two agreed on this repository's */*.go and docs/*.md
// files and under a 60-second fuzz run; ollama's encoder is not ours to
// patch (the ollama module also carries llama.cpp).
//
// The check: both decode to the same bytes, and each stretch between the
// byte offsets where both have a token boundary either has the same IDs or
// repeats a pair of adjacent bytes (two merges of one rank compete only
// where the same pair of symbols occurs twice).
func tieOnly(t *testing.T, p tokPair, got, want []int32) bool {
	t.Helper()
	if slices.Equal(got, want) {
		return false
	}
	pieces := func(ids []int32) ([][]byte, bool) {
		out := make([][]byte, len(ids))
		for i, id := range ids {
			if id < 0 || int(id) >= p.ref.Size() {
				return nil, false
			}
			piece, err := p.ref.TokenPiece(id, true)
			require.NoError(t, err)
			out[i] = piece
		}
		return out, true
	}
	a, okA := pieces(got)
	b, okB := pieces(want)
	if !okA || !okB || !bytes.Equal(bytes.Join(a, nil), bytes.Join(b, nil)) {
		return false
	}
	text := bytes.Join(b, nil)
	// Walk both token lists; a stretch closes where their byte offsets meet.
	var ia, ib, oa, ob, start, sa, sb int
	for ia < len(a) || ib < len(b) {
		if ib >= len(b) || (ia < len(a) && oa <= ob) {
			oa += len(a[ia])
			ia++
		} else {
			ob += len(b[ib])
			ib++
		}
		if oa != ob {
			continue
		}
		if !slices.Equal(got[sa:ia], want[sb:ib]) && !repeatsBytePair(text[start:oa]) {
			return false
		}
		start, sa, sb = oa, ia, ib
	}
	return true
}

// repeatsBytePair says whether some pair of adjacent bytes occurs twice in
// s (the two occurrences may overlap, as in "aaa").
func repeatsBytePair(s []byte) bool {
	seen := map[[2]byte]bool{}
	for i := 0; i+1 < len(s); i++ {
		k := [2]byte{s[i], s[i+1]}
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	return false
}

func TestTokenizerMatchesLlamaOnCorpus(t *testing.T) {
	pairs := tokPairs(t)
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			for _, text := range tokenizerCorpus {
				assert.False(t, checkSame(t, p, text), "%s: %q must match llama.cpp exactly", p.name, text)
			}
			if !p.bpe {
				return
			}
			for _, text := range tieCorpus {
				assert.True(t, checkSame(t, p, text), "%s: %q: the known merge-tie divergence no longer shows (see tieCorpus)", p.name, text)
			}
		})
	}
}

// Every vocabulary entry's own text (as llama.cpp renders it) tokenizes
// the same way in both, and every token decodes to llama.cpp's piece: this
// covers the pieces that are whole tokens, where llama.cpp merges step by
// step (ignore_merges off for smollm) and ollama's encoder takes the whole
// token at once.
func TestTokenizerMatchesLlamaOnVocabulary(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole vocabulary: skipped in -short")
	}
	pairs := tokPairs(t)
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			require.Equal(t, p.ref.Size(), p.ours.Size())
			var invalid, decodeDiffer int
			for id := int32(0); id < int32(p.ours.Size()); id++ {
				piece, err := p.ref.TokenPiece(id, true)
				require.NoError(t, err)
				got, err := p.ours.Decode([]int32{id})
				require.NoError(t, err)
				if got != string(piece) {
					decodeDiffer++
				}
				checkDecode(t, p, []int32{id})
				if !utf8.Valid(piece) {
					invalid++ // a lone byte of a UTF-8 sequence: not text
					continue
				}
				want, err := p.ref.Tokenize(string(piece), false, true)
				require.NoError(t, err)
				ids, err := p.ours.Encode(string(piece), false)
				require.NoError(t, err)
				if len(want) == 0 {
					want = nil
				}
				if len(ids) == 0 {
					ids = nil
				}
				assert.Equal(t, want, ids, "%s: token %d %q", p.name, id, piece)
			}
			t.Logf("%s: %d tokens compared; %d are partial UTF-8 (not text), %d decode differently only by NUL bytes",
				p.name, p.ours.Size(), invalid, decodeDiffer)
			assert.LessOrEqual(t, decodeDiffer, 1, "only the token of byte 0x00 may decode differently")
		})
	}
}

// FuzzTokenizeMatchesLlama feeds both tokenizers the same strings: the
// IDs must be equal (and the decoded text llama.cpp's pieces). Run it with
// go test ./llamacpp -run X -fuzz FuzzTokenizeMatchesLlama -fuzztime 60s.
func FuzzTokenizeMatchesLlama(f *testing.F) {
	pairs := tokPairs(f)
	for _, s := range append(slices.Clone(tokenizerCorpus), tieCorpus...) {
		f.Add(s)
	}
	f.Add("\xff\xfe invalid")
	f.Add("\xc0\x80 overlong")
	f.Fuzz(func(t *testing.T, text string) {
		for _, p := range pairs {
			checkSame(t, p, text)
		}
	})
}

// tieOnly allows the merge-tie divergence and nothing else: a text split
// differently where no pair of bytes repeats, or IDs of another text, are
// real differences.
func TestTieOnlyAllowsOnlyTies(t *testing.T) {
	var p tokPair
	for _, q := range tokPairs(t) {
		if q.bpe {
			p = q
		}
	}
	if p.ours == nil {
		t.Skip("needs a byte-level BPE vocabulary: real:smollm2 is absent")
	}
	want, err := p.ref.Tokenize(" aaaa", false, true)
	require.NoError(t, err)
	got, err := p.ours.Encode(" aaaa", false)
	require.NoError(t, err)
	require.NotEqual(t, want, got, "the known tie: see tieCorpus")
	assert.True(t, tieOnly(t, p, got, want))
	assert.False(t, tieOnly(t, p, want, want), "equal IDs are no divergence")

	// "Hello" spelled byte by byte: the same text, but no pair repeats.
	whole, err := p.ref.Tokenize("Hello", false, true)
	require.NoError(t, err)
	var spelled []int32
	for _, c := range "Hello" {
		ids, err := p.ours.Encode(string(c), false)
		require.NoError(t, err)
		spelled = append(spelled, ids...)
	}
	require.NotEqual(t, whole, spelled)
	assert.False(t, tieOnly(t, p, spelled, whole))

	// The IDs of another text.
	other, err := p.ref.Tokenize(" aaab", false, true)
	require.NoError(t, err)
	assert.False(t, tieOnly(t, p, other, want))
	assert.False(t, tieOnly(t, p, []int32{-1}, want), "an ID outside the vocabulary")
}
