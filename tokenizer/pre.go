package tokenizer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/dlclark/regexp2"
)

// preTokenizer is one of llama.cpp's BPE pre-tokenizers (llm_tokenizer_bpe
// in llama-vocab.cpp): the expressions it splits text with, in order, and
// whether it adds BOS when the file does not say (add_bos_token absent).
type preTokenizer struct {
	exprs  []string
	addBOS bool

	once sync.Once
	out  []string
	err  error
}

// llama.cpp's expressions, as written in llama-vocab.cpp (its own
// adaptations of the tokenizer.json originals).
const (
	exprGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`

	exprLlama3 = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

	exprQwen2 = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

var (
	preLlama3  = &preTokenizer{exprs: []string{exprLlama3}, addBOS: true}
	preSmolLM  = &preTokenizer{exprs: []string{`\p{N}`, exprGPT2}}
	preGPT2    = &preTokenizer{exprs: []string{exprGPT2}}
	preQwen2   = &preTokenizer{exprs: []string{exprQwen2}}
	preDefault = &preTokenizer{exprs: []string{
		`[\p{P}\$\+<=>\^~\|]+`,
		exprGPT2,
		`\p{N}+`,
		`[0-9][0-9][0-9]`,
	}}
)

// preTokenizers maps the values of tokenizer.ggml.pre to llama.cpp's
// pre-tokenizer for them. Only the pre-tokenizers whose llama.cpp
// behaviour the ollama encoder reproduces are here: llama.cpp's "ignore
// merges" (a piece that is a whole token is that token) is on for the
// llama3 family and off for the others, and ollama's encoder always does
// it; the parity test found no piece of SmolLM2's vocabulary (smollm) for
// which that changes the IDs. The families llama.cpp gives extra rules
// (deepseek, chatglm, tekken, chameleon, ...) are refused by name.
var preTokenizers = map[string]*preTokenizer{
	// LLAMA_VOCAB_PRE_TYPE_DEFAULT (also what a file without the key gets)
	"default": preDefault,
	// LLAMA_VOCAB_PRE_TYPE_LLAMA3
	"llama3": preLlama3, "llama-v3": preLlama3, "llama-bpe": preLlama3, "falcon3": preLlama3,
	"falcon-h1": preLlama3, "pixtral": preLlama3, "midm-2.0": preLlama3, "lfm2": preLlama3,
	// LLAMA_VOCAB_PRE_TYPE_SMOLLM and the types llama.cpp gives the same expressions
	"smollm": preSmolLM, "starcoder": preSmolLM, "refact": preSmolLM, "command-r": preSmolLM,
	"codeshell": preSmolLM, "exaone": preSmolLM, "minerva-7b": preSmolLM,
	// LLAMA_VOCAB_PRE_TYPE_GPT2 and the same
	"gpt-2": preGPT2, "phi-2": preGPT2, "jina-es": preGPT2, "jina-de": preGPT2, "gigachat": preGPT2,
	"jina-v2-es": preGPT2, "jina-v2-de": preGPT2, "a.x-4.0": preGPT2, "mellum": preGPT2,
	"mpt": preGPT2, "olmo": preGPT2, "jais": preGPT2, "trillion": preGPT2, "granite-docling": preGPT2,
	"exaone4": preGPT2,
	// LLAMA_VOCAB_PRE_TYPE_QWEN2 and the same
	"qwen2": preQwen2, "deepseek-r1-qwen": preQwen2, "kormo": preQwen2, "megrez": preQwen2,
	"stablelm2": preQwen2, "hunyuan": preQwen2,
}

// PreTokenizers lists the tokenizer.ggml.pre values the package supports,
// sorted.
func PreTokenizers() []string { return slices.Sorted(maps.Keys(preTokenizers)) }

// compiled returns the expressions as the ollama encoder gets them: \s
// made llama.cpp's whitespace set and each expression made total (see
// total), each checked to compile.
func (p *preTokenizer) compiled() ([]string, error) {
	p.once.Do(func() {
		for _, e := range p.exprs {
			s, err := llamaSpace(e)
			if err != nil {
				p.err = fmt.Errorf("expression %q: %w", e, err)
				return
			}
			s = total(s)
			if _, err := regexp2.Compile(s, regexp2.RE2); err != nil {
				p.err = fmt.Errorf("expression %q: %w", e, err)
				return
			}
			p.out = append(p.out, s)
		}
	})
	return p.out, p.err
}

// wsClass is llama.cpp's whitespace (unicode_set_whitespace in
// unicode-data.cpp) as the inside of a character class.
const wsClass = "\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

// llamaSpace rewrites \s and \S in a regular expression to llama.cpp's
// whitespace set: the regexp engine's RE2 mode reads \s as [\t\n\f\r ].
// \S inside a character class has no such rewrite and is refused.
func llamaSpace(expr string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if c == '\\' && i+1 < len(expr) {
			i++
			switch n := expr[i]; {
			case n == 's' && inClass:
				b.WriteString(wsClass)
			case n == 's':
				b.WriteString("[" + wsClass + "]")
			case n == 'S' && inClass:
				return "", fmt.Errorf(`\S inside a character class at byte %d`, i-1)
			case n == 'S':
				b.WriteString("[^" + wsClass + "]")
			default:
				b.WriteByte(c)
				b.WriteByte(n)
			}
			continue
		}
		switch c {
		case '[':
			inClass = true
		case ']':
			inClass = false
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// total makes expr match every piece of its input: each run of text expr
// does not match becomes a match of its own, the same piece llama.cpp
// keeps between two matches (unicode_regex_split). The ollama encoder of
// v0.17.4 mishandles such runs (it re-emits the text before them), so none
// must be left.
func total(expr string) string {
	return "(?:" + expr + ")|(?:(?!(?:" + expr + "))(?s:.))+"
}
