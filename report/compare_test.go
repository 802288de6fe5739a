package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGapClosed(t *testing.T) {
	g, ok := GapClosed(Higher, 0.5, 0.75)
	assert.True(t, ok)
	assert.InDelta(t, 0.5, g, 1e-12)
	g, ok = GapClosed(Lower, 2.0, 1.0)
	assert.True(t, ok)
	assert.InDelta(t, 1.0, g, 1e-12)
	g, ok = GapClosed(Lower, 2.0, 3.0)
	assert.True(t, ok)
	assert.InDelta(t, -1.0, g, 1e-12, "a wider gap is negative")
	_, ok = GapClosed(Higher, 1.2, 1.5)
	assert.False(t, ok, "no gap before")
	_, ok = GapClosed(Lower, 0.8, 0.5)
	assert.False(t, ok)
	_, ok = GapClosed(Info, 0.5, 0.7)
	assert.False(t, ok)
}

func TestCompareMarkdown(t *testing.T) {
	old := fixture()
	newer := fixture()
	newer[1].Decode.TokensPerSec = 75      // 0.5x -> 0.75x: half the gap
	newer[1].ColdFullPrefill.TTFTMS = 1500 // 2x -> 1.5x: half the gap
	newer[1].WarmChangedSuffix.TTFTMS = 60 // 2x -> 0.75x: all of it
	md := CompareMarkdown([]RunSet{{Label: "old", Reports: old}, {Label: "new", Reports: newer}}, false)
	for _, want := range []string{
		"# fakbench compare",
		"- run 1: `old` (3 backend rows)",
		"How much of the kernel's gap to the best tuned reference `new` closed against `old`:",
		"- decode tok/s: kernel / best reference 0.50x (llama.cpp) -> 0.75x (llama.cpp) (higher is better): 50 % of the gap closed",
		"- cold TTFT ms: kernel / best reference 2.00x (llama.cpp) -> 1.50x (llama.cpp) (lower is better): 50 % of the gap closed",
		"- warm changed: TTFT ms: kernel / best reference 2.00x (llama.cpp) -> 0.75x (llama.cpp) (lower is better): 125 % of the gap closed",
		"| metric | old: llamacpp | old: gokernel | old: openvino | new: llamacpp | new: gokernel | new: openvino | old: gokernel / llama.cpp | new: gokernel / llama.cpp | gap closed old -> new | better |",
		"| decode tok/s | 100 | 50 | - | 100 | 75 | - | 0.50x | 0.75x | 50 % | higher |",
		"| cold prefill tokens | 512 | 512 | - | 512 | 512 | - |  |  |  |  |",
		"## Skipped rows",
		"## Reproducibility",
	} {
		assert.Contains(t, md, want)
	}

	// A run without the pair: no gap columns, a plain statement instead.
	md = CompareMarkdown([]RunSet{{Label: "a", Reports: old[1:]}, {Label: "b", Reports: newer}}, false)
	assert.Contains(t, md, "- `a` has no kernel and tuned-reference rows that completed")
	assert.NotContains(t, md, "gap closed a -> b")
	assert.Contains(t, md, "b: gokernel / llama.cpp")
}
