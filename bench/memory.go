package bench

import (
	"fmt"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/report"
)

// onGoHeap says the backend computes on the Go heap (the in-repo kernel,
// whose registered role is adapters.RoleKernel), so its rows record the Go
// runtime's facts (harness.Config.GoRuntime).
func onGoHeap(name string) bool {
	e, err := adapters.Lookup(name)
	return err == nil && e.Role == adapters.RoleKernel
}

// checkKV computes the KV cache rep's backend holds from the model file's
// attention shape and the backend's settings, and judges it against the
// decode session's measured growth (report.Memory.CheckKV). A model whose
// shape cannot be read leaves the check not judged, saying why.
func checkKV(rep *report.Report, modelPath string, contextLen int) {
	if rep.Memory == nil {
		return
	}
	shape, err := kvShape(modelPath)
	if err != nil {
		rep.Memory.KV = &report.KVCache{Verdict: report.KVNotJudged, Check: "the cache is not computed: " + err.Error()}
		return
	}
	rep.Memory.CheckKV(shape, rep.Settings, contextLen)
}

// kvShape reads the layers, KV heads and key width per head from a GGUF
// file's llama.* metadata.
func kvShape(path string) (report.KVShape, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return report.KVShape{}, fmt.Errorf("reading the model's attention shape: %w", err)
	}
	defer f.Close()
	p, err := gguf.ReadLlamaParams(f)
	if err != nil {
		return report.KVShape{}, fmt.Errorf("reading the model's attention shape: %w", err)
	}
	return report.KVShape{Layers: p.Layers, KVHeads: p.KVHeads, HeadDim: p.KeyLength}, nil
}
