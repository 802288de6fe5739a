package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/transport"
)

// prompt is a --prompt-file, read and tokenized with the model's
// tokenizer (nil: none given).
type prompt struct {
	file, sha256, tokenizer string
	ids                     []transport.Token
}

// readPrompt reads the text file at path and tokenizes it with the
// tokenizer of model m (BOS as the model asks, special-token strings
// parsed). An empty path is no prompt. Errors name the file.
func readPrompt(path string, m models.Resolved) (*prompt, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--prompt-file: %w", err)
	}
	tk, err := openTokenizer(m.Path, m.Spec)
	if err != nil {
		return nil, fmt.Errorf("--prompt-file %s: %w", path, err)
	}
	defer tk.Close()
	ids, err := tk.Encode(string(data), true)
	if err != nil {
		return nil, fmt.Errorf("--prompt-file %s: %w", path, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("--prompt-file %s gives no tokens: it holds no text", path)
	}
	sum := sha256.Sum256(data)
	return &prompt{file: path, sha256: hex.EncodeToString(sum[:]), tokenizer: tk.Name(), ids: ids}, nil
}

// apply makes p the source of the scenario's token IDs. No scenario uses
// more tokens than the context holds, so only that many travel (to the
// rows' child processes too).
func (p *prompt) apply(params *harness.ScenarioParams) {
	if p == nil {
		return
	}
	params.Prompt = p.ids[:min(len(p.ids), params.Context)]
	params.PromptFile, params.PromptSHA256, params.Tokenizer = p.file, p.sha256, p.tokenizer
}
