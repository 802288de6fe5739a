package workload

import (
	"errors"
	"fmt"
	"time"

	"github.com/fakbench/fakbench/internal/splitmix"
)

// SynthParams describe a synthetic coding-agent-shaped trace. Every number
// is an assumption, and Synthesize writes them all into the provenance.
type SynthParams struct {
	// Seed makes the trace reproducible.
	Seed uint64 `json:"seed"`
	// Conversations is the number of independent agent sessions.
	Conversations int `json:"conversations"`
	// TurnsPerConversation is the number of requests per session (a
	// conversation ends early when its next turn would not fit
	// ContextLimit).
	TurnsPerConversation int `json:"turns_per_conversation"`
	// SystemTokens is the system prompt plus tool definitions, the stable
	// prefix of every conversation's first turn, jittered by +-SystemJitter.
	SystemTokens int `json:"system_tokens"`
	SystemJitter int `json:"system_jitter"`
	// UserTokens is the first user request [min, max].
	UserTokens [2]int `json:"user_tokens"`
	// ToolResultTokens is a tool result (file excerpt, test output, diff)
	// sent as the volatile suffix of every later turn [min, max].
	ToolResultTokens [2]int `json:"tool_result_tokens"`
	// ToolCallTokens is an intermediate completion (a tool call) [min, max].
	ToolCallTokens [2]int `json:"tool_call_tokens"`
	// AnswerTokens is the last turn's completion (the answer) [min, max].
	AnswerTokens [2]int `json:"answer_tokens"`
	// ContextLimit bounds prompt + completion of every turn.
	ContextLimit int `json:"context_limit"`
}

// DefaultSynthParams is the shape of the shipped default workload
// (experiments/agent-live/production-workload.json): an agent that resends
// its whole history each turn, scaled so every turn fits a 2048-position
// context (the SmolLM2-135M shape the default benchmark model has).
func DefaultSynthParams() SynthParams {
	return SynthParams{
		Seed:                 20260000,
		Conversations:        3,
		TurnsPerConversation: 6,
		SystemTokens:         640,
		SystemJitter:         48,
		UserTokens:           [2]int{60, 180},
		ToolResultTokens:     [2]int{40, 260},
		ToolCallTokens:       [2]int{20, 90},
		AnswerTokens:         [2]int{80, 160},
		ContextLimit:         2000,
	}
}

func (p SynthParams) validate() error {
	ranges := map[string][2]int{
		"user_tokens": p.UserTokens, "tool_result_tokens": p.ToolResultTokens,
		"tool_call_tokens": p.ToolCallTokens, "answer_tokens": p.AnswerTokens,
	}
	for name, r := range ranges {
		if r[0] < 1 || r[1] < r[0] {
			return fmt.Errorf("%s = %v: want 1 <= min <= max", name, r)
		}
	}
	switch {
	case p.Conversations < 1:
		return fmt.Errorf("conversations = %d: want >= 1", p.Conversations)
	case p.TurnsPerConversation < 1:
		return fmt.Errorf("turns_per_conversation = %d: want >= 1", p.TurnsPerConversation)
	case p.SystemJitter < 0 || p.SystemTokens-p.SystemJitter < 0:
		return fmt.Errorf("system_tokens %d +- %d: must stay >= 0", p.SystemTokens, p.SystemJitter)
	case p.SystemTokens+p.SystemJitter+p.UserTokens[1]+max(p.ToolCallTokens[1], p.AnswerTokens[1]) > p.ContextLimit:
		return fmt.Errorf("context_limit = %d: the largest first turn (%d tokens) does not fit", p.ContextLimit,
			p.SystemTokens+p.SystemJitter+p.UserTokens[1]+max(p.ToolCallTokens[1], p.AnswerTokens[1]))
	}
	return nil
}

// Synthesize generates a coding-agent-shaped trace. Turn 1 of a
// conversation: stable = system prompt, suffix = user request, completion =
// a tool call. Turn k > 1: stable = the previous turn's prompt plus its
// completion (the history the agent resends), suffix = a tool result,
// completion = a tool call, or the answer on the last turn. The output is a
// pure function of p (createdAt aside).
func Synthesize(p SynthParams, createdAt time.Time) (Workload, error) {
	if err := p.validate(); err != nil {
		return Workload{}, fmt.Errorf("synth params: %w", err)
	}
	rng := draw{splitmix.Rand{State: p.Seed}}
	var turns []Turn
	for c := 0; c < p.Conversations; c++ {
		conv := fmt.Sprintf("agent-%d", c+1)
		stable := p.SystemTokens - p.SystemJitter + rng.between(0, 2*p.SystemJitter)
		suffix := rng.between(p.UserTokens[0], p.UserTokens[1])
		for k := 0; k < p.TurnsPerConversation; k++ {
			last := k == p.TurnsPerConversation-1
			var compl int
			if last {
				compl = rng.between(p.AnswerTokens[0], p.AnswerTokens[1])
			} else {
				compl = rng.between(p.ToolCallTokens[0], p.ToolCallTokens[1])
			}
			if stable+suffix+compl > p.ContextLimit {
				if k == 0 {
					return Workload{}, errors.New("synth params: a first turn does not fit context_limit")
				}
				break
			}
			turns = append(turns, Turn{Conversation: conv, StableTokens: stable, SuffixTokens: suffix, CompletionTokens: compl})
			stable += suffix + compl
			suffix = rng.between(p.ToolResultTokens[0], p.ToolResultTokens[1])
		}
	}
	w := Workload{
		Version: Version,
		Provenance: Provenance{
			Source:    "synthetic: fakbench harness/workload.Synthesize(DefaultSynthParams()); NOT recorded from real traffic",
			Method:    "synthetic coding-agent-shaped generator with stated assumptions",
			CreatedAt: createdAt.UTC().Format(time.RFC3339),
			Notes: []string{
				fmt.Sprintf("params: seed=%d conversations=%d turns_per_conversation=%d system_tokens=%d+-%d user_tokens=%v tool_result_tokens=%v tool_call_tokens=%v answer_tokens=%v context_limit=%d",
					p.Seed, p.Conversations, p.TurnsPerConversation, p.SystemTokens, p.SystemJitter, p.UserTokens, p.ToolResultTokens, p.ToolCallTokens, p.AnswerTokens, p.ContextLimit),
				"assumption: the agent resends its whole history each turn, so a turn's stable prefix is the previous prompt plus the previous completion",
				"assumption: turn 1 sends system prompt + tool definitions (stable) and the user request (suffix); later turns send a tool result (suffix); intermediate completions are tool calls, the last one the answer",
				"scale: real coding-agent prompts run to tens of thousands of tokens; these lengths are scaled down so every turn fits a 2048-position context",
				"lengths only: replay feeds deterministic token IDs at these lengths (no tokenizer); token identity carries no semantic claim",
				"replace it with your own traffic: fakbench workload derive --in LOG.jsonl --out W.json",
			},
		},
		Turns: turns,
	}
	return w, w.Validate()
}

// draw draws the synthetic lengths from SplitMix64, whose output never
// depends on the Go version.
type draw struct{ splitmix.Rand }

// between returns an integer in [lo, hi].
func (s *draw) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + int(s.Next()%uint64(hi-lo+1))
}
