package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	_ "github.com/fakbench/fakbench/adapters/all" // the in-repo backends' registry entries
	"github.com/fakbench/fakbench/report"
)

func TestRowKind(t *testing.T) {
	assert.Equal(t, report.KindTunedReference, rowKind("llamacpp", "tuned"))
	assert.Equal(t, report.KindUntuned, rowKind("llamacpp", "untuned"))
	assert.Equal(t, report.KindKernel, rowKind("gokernel", "tuned"))
	assert.Equal(t, report.KindAblation, rowKind("gokernel", "untuned"))
	// OpenVINO is a tuned reference too: the headline holds the kernel
	// against the best of them.
	assert.Equal(t, report.KindTunedReference, rowKind("openvino", "tuned"))
}

func TestRegistryDrivesTheRows(t *testing.T) {
	// Every registered default sweep grid parses, and llama.cpp's sweeps
	// its extra weight buffer types (AMX, repack) besides flash attention
	// and n_ubatch.
	for _, e := range entries(adapters.Names()) {
		if e.SweepGrid == "" {
			continue
		}
		g, err := ParseGrid(e.SweepGrid)
		require.NoError(t, err, e.Name)
		if e.Name == "llamacpp" {
			assert.Len(t, g.Configs(), 8)
			assert.Contains(t, g.String(), "extra_bufts=on,off")
		}
	}
	o := Options{Backends: []string{"gokernel", "llamacpp"}, Profile: "tuned", Ablations: []string{"no-reuse"}, Untuned: true}
	rows := planRows(o)
	require.Len(t, rows, 4)
	assert.Equal(t, "llamacpp-untuned", rows[2].label)
	assert.Contains(t, rows[2].note, "untuned row: llama.cpp as a naive caller")
	assert.Equal(t, "gokernel-noreuse", rows[3].label)
	assert.Equal(t, []string{"warm_same_prefix.hit_rate"}, rows[3].expected)
	assert.Equal(t, map[string]string{"prefix_reuse": "off"}, rows[3].extra)
}

func TestResolveRowsErrors(t *testing.T) {
	cases := []struct {
		name string
		o    Options
		grid string
		want string
	}{
		{"grid without sweep", Options{Backends: []string{"llamacpp"}}, "flash_attn=on", "--grid needs --sweep"},
		{"sweep without a sweepable backend", Options{Backends: []string{"gokernel"}, Sweep: true}, "", "--sweep tunes llamacpp, which is not in --backends (gokernel)"},
		{"untuned without llama.cpp", Options{Backends: []string{"gokernel"}, Untuned: true}, "", "--untuned adds llama.cpp's untuned row: llamacpp is not in --backends (gokernel)"},
		{"ablation of nobody", Options{Backends: []string{"llamacpp"}, Ablations: []string{"generic"}}, "", "--ablations are rows of gokernel, OpenVINO: none of gokernel, openvino is in --backends (llamacpp)"},
		{"threads axis", Options{Backends: []string{"llamacpp"}, Sweep: true, Profile: "tuned"}, "threads=1,2", "threads cannot be swept"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.o.ResolveRows(c.grid, c.grid != "")
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	o := Options{Backends: []string{"llamacpp", "gokernel"}, Sweep: true, Profile: "tuned"}
	require.NoError(t, o.ResolveRows("", false))
	require.Contains(t, o.Grids, "llamacpp")
	assert.NotContains(t, o.Grids, "gokernel", "only backends with a grid are swept")
}
