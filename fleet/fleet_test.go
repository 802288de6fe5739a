package fleet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/cpuid"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
)

var (
	fast = node{cpu: zen3, bw: 20, kernel: [3]float64{400, 90, 20}, ref: [3]float64{500, 100, 16}}
	xeon = node{cpu: spr, bw: 60, kernel: [3]float64{900, 150, 10}, ref: [3]float64{2000, 140, 8}}
)

func named(n node, label string) node { n.label = label; return n }

func TestFlagsFingerprint(t *testing.T) {
	assert.Equal(t, "abc", flagsFingerprint("CGO_CFLAGS=-O3 -DFAK_CPU_FINGERPRINT=abc"))
	assert.Equal(t, "def", flagsFingerprint(`CGO_CFLAGS="-O3 -DFAK_CPU_FINGERPRINT=abc" CGO_CXXFLAGS="-DFAK_CPU_FINGERPRINT=def"`))
	assert.Equal(t, "", flagsFingerprint("CGO_CFLAGS=-O3 -DFAK_CPU_FINGERPRINT_X=abc"))
	assert.Equal(t, "", flagsFingerprint(""))
}

func TestVerifyAcceptsAnHonestFolder(t *testing.T) {
	dir := named(fast, "a").build(t, t.TempDir())
	h, why := Verify(dir)
	require.Empty(t, why)
	require.NotNil(t, h)
	assert.Equal(t, "a", h.Label)
	assert.Equal(t, Kind{Fingerprint: zen3.fp(), Model: zen3.model}, h.Kind)
	assert.Equal(t, zen3.model+" (ISA "+zen3.fp()+")", h.Kind.String())
	assert.Len(t, h.Reports, 2)
	assert.True(t, strings.HasPrefix(h.SetDigest, "sha256:"))
}

// Every reason a folder is refused, each named.
func TestVerifyRefuses(t *testing.T) {
	cases := map[string]func(t *testing.T, dir string){
		"artifacts: changed: bench/gokernel.json": func(t *testing.T, dir string) {
			p := filepath.Join(dir, "bench", "gokernel.json")
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			b[len(b)-3] ^= 0x20
			require.NoError(t, os.WriteFile(p, b, 0o644))
		},
		"missing: logs/10-run.stdout": func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "logs", "10-run.stdout")))
		},
		"unlisted: extra.txt": func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644))
		},
		"the manifest is not complete: interrupted": func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) {})
			l := nodebench.Layout{Dir: dir}
			m, err := l.ReadManifest()
			require.NoError(t, err)
			m.Complete, m.Incomplete = false, "interrupted: signal"
			require.NoError(t, l.WriteManifest(m))
		},
		`build_cpu status "not_recorded"`: func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) { m.BuildCPU.Status = nodebench.BuildCPUNotRecorded })
		},
		"does not record the CPU the binary was built for": func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) { m.BuildCPU = nil })
		},
		"the binary was built for CPU fingerprint \"000000000000\"": func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) { m.BuildCPU.BuildFingerprint = "000000000000" })
		},
		"cpu_isa hashes to fingerprint": func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) { m.BuildCPU.CPUISA = append(m.BuildCPU.CPUISA, "avx512f") })
		},
		"build_flags carry CPU fingerprint": func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) { m.BuildFlags = "CGO_CFLAGS=-O3" })
		},
		"the native code targets avx512f, which the CPU lacks": func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) { m.BuildCPU.NativeISA = append(m.BuildCPU.NativeISA, "avx512f") })
		},
		"the host facts list amx_tile, which build_cpu.cpu_isa lacks": func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) { m.Host.CPUFeatures += " amx_tile" })
		},
		"bench/gokernel.json was measured on": func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) { m.Host.CPUModel = "Another CPU" })
		},
		`host label "x/y" cannot name a folder`: func(t *testing.T, dir string) {
			rewrite(t, dir, func(m *nodebench.Manifest) { m.HostLabel = "x/y" })
		},
	}
	for want, breakIt := range cases {
		t.Run(want, func(t *testing.T) {
			dir := named(fast, "a").build(t, t.TempDir())
			breakIt(t, dir)
			h, why := Verify(dir)
			assert.Nil(t, h)
			assert.Contains(t, strings.Join(why, "\n"), want)
		})
	}

	// A report built for another CPU than the manifest's binary.
	dir := named(fast, "a").build(t, t.TempDir())
	r, err := report.ReadJSON(filepath.Join(dir, "bench", "llamacpp.json"))
	require.NoError(t, err)
	r.BuildFlags = `CGO_CFLAGS="-O3 -D` + cpuid.Define + "=" + spr.fp() + `"`
	require.NoError(t, report.WriteJSON(filepath.Join(dir, "bench", "llamacpp.json"), r))
	rewrite(t, dir, func(*nodebench.Manifest) {})
	_, why := Verify(dir)
	assert.Contains(t, strings.Join(why, "\n"), "bench/llamacpp.json was built for CPU fingerprint \""+spr.fp()+"\"")

	// No manifest, a linked folder.
	_, why = Verify(t.TempDir())
	assert.Contains(t, strings.Join(why, "\n"), "no production-readiness-manifest.json")
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(named(fast, "a").build(t, t.TempDir()), link))
	_, why = Verify(link)
	assert.Contains(t, strings.Join(why, "\n"), "is a symbolic link")
}

func TestCollectFilesVerifiedHostsAndRefusesTheRest(t *testing.T) {
	src := t.TempDir()
	named(fast, "a").build(t, src)
	named(xeon, "c").build(t, src)
	b := named(fast, "b").build(t, src)
	p := filepath.Join(b, "bench", "llamacpp.json")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(data), `"tokens_per_sec": 100`, `"tokens_per_sec": 190`, 1)), 0o644))

	out := filepath.Join(t.TempDir(), "fleet")
	res, err := Collect([]string{src}, out)
	require.NoError(t, err)
	var labels []string
	for _, a := range res.Accepted {
		labels = append(labels, a.Label)
	}
	assert.Equal(t, []string{"a", "c"}, labels)
	require.Len(t, res.Refused, 1)
	assert.Equal(t, "b", res.Refused[0].Label)
	assert.Contains(t, strings.Join(res.Refused[0].Reasons, "\n"), "changed: bench/llamacpp.json")
	for _, l := range []string{"a", "c"} {
		h, why := Verify(filepath.Join(out, l))
		require.Empty(t, why, l)
		assert.Equal(t, l, h.Label)
	}
	assert.NoDirExists(t, filepath.Join(out, "b"))
	idx, err := ReadIndex(out)
	require.NoError(t, err)
	require.Len(t, idx.Hosts, 2)
	assert.Equal(t, spr.fp(), idx.Hosts[1].Kind.Fingerprint)
	require.Len(t, idx.Refused, 1)
	var text strings.Builder
	res.Print(&text)
	assert.Contains(t, text.String(), "REFUSED   b  from "+b)
	assert.Contains(t, text.String(), "fleet collect: 2 host(s) in "+out+", 1 folder(s) refused")

	// Again: the filed hosts are unchanged; the tampered one still refused.
	res, err = Collect([]string{filepath.Join(src, "a"), filepath.Join(src, "c")}, out)
	require.NoError(t, err)
	require.Len(t, res.Accepted, 2)
	assert.Contains(t, res.Accepted[0].Note, "already collected, unchanged")
	assert.Empty(t, res.Refused)
}

func TestCollectRefusesDuplicates(t *testing.T) {
	// Two different runs claim host a (a rerun's folder moved aside).
	src := t.TempDir()
	named(fast, "a").build(t, src)
	rerun := named(fast, "a")
	rerun.kernel[1] = 91
	dir := rerun.build(t, filepath.Join(src, "prev"))
	out := filepath.Join(t.TempDir(), "fleet")
	res, err := Collect([]string{src, dir}, out)
	require.NoError(t, err)
	assert.Empty(t, res.Accepted)
	require.Len(t, res.Refused, 2)
	for _, r := range res.Refused {
		assert.Contains(t, strings.Join(r.Reasons, "\n"), "host label a is claimed by 2 different artifact sets")
	}

	// One run under two labels: a copy passed off as another node.
	src = t.TempDir()
	a := named(fast, "a").build(t, src)
	copyDir(t, a, filepath.Join(src, "d"))
	rewriteLabel(t, filepath.Join(src, "d"), "d")
	res, err = Collect([]string{src}, filepath.Join(t.TempDir(), "fleet"))
	require.NoError(t, err)
	assert.Empty(t, res.Accepted)
	require.Len(t, res.Refused, 2)
	assert.Contains(t, strings.Join(res.Refused[0].Reasons, "\n"), "the same artifact set is also filed as")

	// The same run fetched twice (two transports): taken once.
	src2 := t.TempDir()
	copyDir(t, a, filepath.Join(src2, "a"))
	res, err = Collect([]string{a, filepath.Join(src2, "a")}, filepath.Join(t.TempDir(), "fleet"))
	require.NoError(t, err)
	require.Len(t, res.Accepted, 1)
	assert.Contains(t, res.Accepted[0].Note, "taken once")

	// out/ already holds another run of the host.
	out = filepath.Join(t.TempDir(), "fleet")
	_, err = Collect([]string{a}, out)
	require.NoError(t, err)
	res, err = Collect([]string{dir}, out)
	require.NoError(t, err)
	require.Len(t, res.Refused, 1)
	assert.Contains(t, res.Refused[0].Reasons[0], "already holds another run of host a")
	// ... and the copy of a filed under d is caught against the index.
	d := t.TempDir()
	copyDir(t, a, filepath.Join(d, "d"))
	rewriteLabel(t, filepath.Join(d, "d"), "d")
	res, err = Collect([]string{d}, out)
	require.NoError(t, err)
	require.Len(t, res.Refused, 1)
	assert.Contains(t, strings.Join(res.Refused[0].Reasons, "\n"), "a (collected earlier from")
}

func TestCollectInputErrors(t *testing.T) {
	_, err := Collect(nil, t.TempDir())
	assert.ErrorContains(t, err, "no source folder")
	_, err = Collect([]string{filepath.Join(t.TempDir(), "none")}, t.TempDir())
	assert.ErrorContains(t, err, "none")
	empty := t.TempDir()
	_, err = Collect([]string{empty}, t.TempDir())
	assert.ErrorContains(t, err, empty+" holds no node-bench folder")
	out := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(out, IndexFile), []byte(`{"schema":"x"}`), 0o644))
	_, err = Collect([]string{named(fast, "a").build(t, t.TempDir())}, out)
	assert.ErrorContains(t, err, `schema "x"`)
	require.NoError(t, os.WriteFile(filepath.Join(out, IndexFile), []byte(`[1]`), 0o644))
	_, err = Collect([]string{named(fast, "a").build(t, t.TempDir())}, out)
	assert.ErrorContains(t, err, filepath.Join(out, IndexFile)+" is not a fleet index JSON object")
}

func rewriteLabel(t *testing.T, dir, label string) {
	t.Helper()
	l := nodebench.Layout{Dir: dir}
	m, err := l.ReadManifest()
	require.NoError(t, err)
	m.HostLabel = label
	require.NoError(t, l.WriteManifest(m))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	}))
}

// collected files a fleet of fixture hosts and returns out/.
func collected(t *testing.T, nodes ...node) string {
	t.Helper()
	src := t.TempDir()
	for _, n := range nodes {
		n.build(t, src)
	}
	out := filepath.Join(t.TempDir(), "fleet")
	res, err := Collect([]string{src}, out)
	require.NoError(t, err)
	require.Empty(t, res.Refused)
	return out
}

func TestReportGroupsSpreadsAndOutliers(t *testing.T) {
	slow := named(fast, "z3-slow")
	slow.kernel[1], slow.ref[2] = 60, 25 // kernel decode 33 % below, llama.cpp TTFT 56 % above
	out := collected(t, named(fast, "z3-a"), named(fast, "z3-b"), slow, named(xeon, "spr-a"))
	f, err := BuildReport(out, ReportOptions{CleanNode: true, Args: []string{"fleet", "--clean-node"}})
	require.NoError(t, err)
	require.Len(t, f.Groups, 2)
	assert.Equal(t, []string{"gokernel", "llamacpp"}, f.Backends)
	assert.False(t, f.Failed(), "every host passes its gate with --clean-node")

	var z3, x *Group
	for _, g := range f.Groups {
		if g.Kind.Model == zen3.model {
			z3 = g
		} else {
			x = g
		}
	}
	require.NotNil(t, z3)
	require.Len(t, z3.Hosts, 3)
	require.Len(t, x.Hosts, 1)
	for _, h := range z3.Hosts {
		if h.Label == "z3-slow" {
			assert.Equal(t, []string{
				"gokernel decode tok/s 60 is 33 % below the kind's median 90",
				"llamacpp warm TTFT ms 25 is 56 % above the kind's median 16",
			}, h.Outliers)
		} else {
			assert.Empty(t, h.Outliers, h.Label)
		}
	}
	spreads := map[string]Spread{}
	for _, s := range z3.Spreads {
		spreads[s.Key] = s
	}
	dec := spreads["gokernel decode tok/s"]
	assert.InDelta(t, 100.0/3, dec.Percent, 1e-9)
	dec.Percent = 0
	assert.Equal(t, Spread{Figure: Figure{Key: "gokernel decode tok/s", Better: report.Higher}, N: 3, Min: 60, Median: 90, Max: 90}, dec)
	assert.Equal(t, 0.0, spreads[bandwidthKey].Percent)

	// The kernel's ratio to the best reference, per host.
	h := x.Hosts[0]
	require.Len(t, h.Ratios, 3)
	assert.Equal(t, Ratio{Metric: "cold_full_prefill.prompt_tps", Name: "prefill", Reference: "llamacpp", Better: report.Higher, Value: 0.45}, h.Ratios[0])
	assert.InDelta(t, 150.0/140, h.Ratios[1].Value, 1e-9)
	assert.InDelta(t, 10.0/8, h.Ratios[2].Value, 1e-9)

	md := f.Markdown()
	for _, want := range []string{
		"4 host(s) in 2 CPU kind(s)", "4 pass their gate, 0 fail",
		"threshold 15 % (--outlier 0.15)",
		"| " + zen3.model + " (ISA " + zen3.fp() + ") | z3-slow | avx avx2 f16c fma sse4_2 | 2 | 24 | 20 | 400 / 60 / 20 | 500 / 100 / 25 | prefill 0.80x (llamacpp), decode 0.60x (llamacpp), warm TTFT 0.80x (llamacpp) | PASS | **gokernel decode tok/s 60 is 33 % below",
		"### " + spr.model + " (ISA " + spr.fp() + "): 1 host(s)", "One host: no spread",
		"| gokernel decode tok/s | 3 | 60 | 90 | 90 | 33.3 % | higher |",
		"Command: `fakbench fleet report fleet --clean-node`",
	} {
		assert.True(t, strings.Contains(md, want), "report.md lacks %q", want)
	}

	// Without the clean-node assertion every gate fails on clean_node.
	f, err = BuildReport(out, ReportOptions{})
	require.NoError(t, err)
	assert.True(t, f.Failed())
	assert.Contains(t, f.Markdown(), "- z3-a: FAIL (clean_node)")

	// A wider threshold flags nothing; the files are written.
	f, err = BuildReport(out, ReportOptions{Outlier: 0.6, CleanNode: true})
	require.NoError(t, err)
	for _, h := range f.Hosts() {
		assert.Empty(t, h.Outliers)
	}
	md, page, err := f.Write()
	require.NoError(t, err)
	assert.FileExists(t, md)
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	html := string(b)
	for _, id := range []string{"decode", "prefill", "ttft", "bandwidth", "kernel"} {
		assert.Contains(t, html, `<figure id="`+id+`">`)
	}
	assert.Equal(t, 5, strings.Count(html, "<svg"), "every chart drawn")
	assert.NotContains(t, html, "Not drawn")
	for _, fetch := range []string{"<script", "<link", "<img", "src=", "href=", "@import", "url("} {
		assert.False(t, strings.Contains(html, fetch), "self-contained: the page holds %q", fetch)
	}
}

func TestReportRefusesWhatNoLongerVerifies(t *testing.T) {
	out := collected(t, named(fast, "a"), named(fast, "b"))
	require.NoError(t, os.WriteFile(filepath.Join(out, "b", "bench", "report.md"), []byte("edited\n"), 0o644))
	f, err := BuildReport(out, ReportOptions{CleanNode: true})
	require.NoError(t, err)
	assert.True(t, f.Failed(), "a collected folder that no longer verifies fails the report")
	require.Len(t, f.Hosts(), 1)
	require.Len(t, f.Refused, 1)
	assert.Equal(t, "b", f.Refused[0].Label)
	assert.Contains(t, f.Markdown(), "- b (in "+out+"): collected, but no longer verifies; artifacts:")
}

func TestReportInputErrors(t *testing.T) {
	_, err := BuildReport(filepath.Join(t.TempDir(), "none"), ReportOptions{})
	assert.ErrorContains(t, err, "none")
	empty := t.TempDir()
	_, err = BuildReport(empty, ReportOptions{})
	assert.ErrorContains(t, err, empty+" holds no collected host")
	out := collected(t, named(fast, "a"))
	_, err = BuildReport(out, ReportOptions{Outlier: 1.5})
	assert.ErrorContains(t, err, "outlier threshold 1.5")
	_, err = BuildReport(out, ReportOptions{Profile: "tpu"})
	assert.ErrorContains(t, err, `unknown hardware profile "tpu"`)
	require.NoError(t, os.Rename(filepath.Join(out, "a"), filepath.Join(out, "renamed")))
	f, err := BuildReport(out, ReportOptions{})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(f.Refused[len(f.Refused)-1].Reasons, ""), "filed as renamed but its manifest says host a")
}
