package fleet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/cpuid"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/nodebench/evidencetest"
	"github.com/fakbench/fakbench/report"
)

// Two CPU kinds as the fixtures describe them.
var (
	zen3 = cpu{model: "AMD EPYC 7B13 64-Core Processor", isa: []string{"avx", "avx2", "f16c", "fma", "sse4_2"}}
	spr  = cpu{model: "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz", isa: []string{"amx_int8", "amx_tile", "avx", "avx2", "avx512_vnni", "avx512f", "f16c", "fma", "sse4_2"}}
)

type cpu struct {
	model string
	isa   []string
}

func (c cpu) fp() string { return cpuid.Fingerprint(c.isa) }

// node is one fixture host: a complete, full, uncapped artifact folder
// whose gate passes with --clean-node, with the Go kernel and a llama.cpp
// row at the given figures.
type node struct {
	label string
	cpu   cpu
	bw    float64
	// kernel and reference figures: prefill tok/s, decode tok/s, warm TTFT ms.
	kernel, ref [3]float64
}

// benchRow is a valid report of backend on host at the figures fig
// (prefill tok/s, decode tok/s, warm TTFT ms), built for the CPU c.
func benchRow(host, backend, kind string, c cpu, fig [3]float64) *report.Report {
	r := evidencetest.Report(backend)
	r.RowKind = kind
	r.ColdFullPrefill.PromptTPS, r.Decode.TokensPerSec = fig[0], fig[1]
	r.WarmChangedSuffix.MS, r.WarmChangedSuffix.TTFTMS = fig[2], fig[2]
	r.Host = &report.Host{Name: host, CPUModel: c.model, CPUFeatures: strings.Join(c.isa, " "), Cores: 2}
	r.BuildFlags = `CGO_ENABLED=1 CGO_CFLAGS="-O3 -march=native -D` + cpuid.Define + "=" + c.fp() + `" CGO_CXXFLAGS="-O3 -march=native -D` + cpuid.Define + "=" + c.fp() + `"`
	return r
}

func buildFlags(c cpu) string {
	return "CGO_ENABLED=1 CGO_CFLAGS=-O3 -march=native -D" + cpuid.Define + "=" + c.fp() + " CGO_CXXFLAGS=-O3 -march=native -D" + cpuid.Define + "=" + c.fp()
}

// build writes the node's folder under parent and finalises its manifest.
func (n node) build(t *testing.T, parent string) string {
	t.Helper()
	dir := filepath.Join(parent, n.label)
	l := nodebench.Layout{Dir: dir}
	require.NoError(t, l.Create())
	require.NoError(t, report.WriteJSON(l.Path(nodebench.BenchDir, "gokernel.json"), benchRow(n.label, "gokernel", report.KindKernel, n.cpu, n.kernel)))
	require.NoError(t, report.WriteJSON(l.Path(nodebench.BenchDir, "llamacpp.json"), benchRow(n.label, "llamacpp", report.KindTunedReference, n.cpu, n.ref)))
	require.NoError(t, os.WriteFile(l.Path(nodebench.BenchDir, "report.md"), []byte("| table |\n"), 0o644))
	require.NoError(t, os.WriteFile(l.Path(nodebench.LogsDir, "10-run.stdout"), []byte("ran\n"), 0o644))

	evidencetest.WriteJSON(t, l.Path(nodebench.BatchDir, batch.FileName("llamacpp")), evidencetest.BatchFile("llamacpp", evidencetest.Curve(3, 0)))
	evidencetest.WriteJSON(t, l.Path(nodebench.WorkloadDir, workload.ReplayFileName("gokernel")), evidencetest.Replay("gokernel", 4, 4))

	m := &nodebench.Manifest{Schema: nodebench.ManifestSchema, HostLabel: n.label, HardwareProfile: "cpu",
		Host:       report.Host{Name: n.label, CPUModel: n.cpu.model, CPUFeatures: strings.Join(n.cpu.isa, " "), Cores: 2, MemoryGB: 24},
		BuildFlags: buildFlags(n.cpu), Bandwidth: nodebench.Bandwidth{GBs: n.bw},
		BuildCPU: &nodebench.BuildCPU{BuildFingerprint: n.cpu.fp(), CPUFingerprint: n.cpu.fp(), Status: nodebench.BuildCPUMatch,
			NativeISA: n.cpu.isa, CPUISA: n.cpu.isa, Detail: "the binary was built for this CPU"}}
	require.NoError(t, l.Finalize(m, "2026-11-30T00:00:00Z"))
	return dir
}

// rewrite edits a folder's manifest with f and hashes the folder again, as
// an honest node bench would have written it.
func rewrite(t *testing.T, dir string, f func(m *nodebench.Manifest)) {
	t.Helper()
	l := nodebench.Layout{Dir: dir}
	m, err := l.ReadManifest()
	require.NoError(t, err)
	f(m)
	require.NoError(t, l.Finalize(m, m.FinishedAt))
}
