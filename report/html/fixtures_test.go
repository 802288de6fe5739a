package html

import "github.com/fakbench/fakbench/report"

// fixtureRow builds a plausible measured report for tests.
func fixtureRow(backend, kind string, scale float64) *report.Report {
	r := &report.Report{
		Model: "synthetic-smol135m-q8_0", Backend: backend, Mode: "live_prefix_reuse",
		BackendVersion: backend + "/test",
		ColdFullPrefill: report.ColdPrefill{Tokens: 1024, MS: 2000 * scale, PromptTPS: 512 / scale, TTFTMS: 2100 * scale,
			SamplesMS: []float64{1900 * scale, 2000 * scale, 2300 * scale}},
		WarmSamePrefix:    report.WarmSame{CachedTokens: 1024, MS: 1, TTFTMS: 150 * scale, HitRate: 1},
		WarmChangedSuffix: report.WarmChanged{CachedTokens: 1024, SuffixTokens: 64, MS: 140 * scale, TTFTMS: 145 * scale, OutputEqualsCold: true},
		EditedStable:      report.EditedStable{ExpectedCacheMiss: true, ActualCacheMiss: true, OutputEqualsCold: true, TTFTMS: 1100 * scale},
		Decode: report.Decode{OutputTokens: 64, TokensPerSec: 100 / scale, SamplesTPS: []float64{95 / scale, 100 / scale, 104 / scale},
			RooflineTPS: 208, RooflineFrac: 100 / scale / 208},
		SuffixTTFTCurve: []report.SuffixTTFT{{SuffixTokens: 1, TTFTMS: 12 * scale}, {SuffixTokens: 32, TTFTMS: 70 * scale}, {SuffixTokens: 512, TTFTMS: 900 * scale}},
		FailureCases:    report.FailureCases{OverContext: true, CancelDecode: true},
		Notes:           []string{"output_equals_cold compares greedy token IDs over 16 decode steps"},
	}
	r.RowKind = kind
	r.Status = "ok"
	r.Threads = 2
	r.Repetitions = 3
	r.Warmup = 1
	r.ModelDigest = "sha256:abc"
	r.TokenDigest = "sha256:def"
	r.Settings = map[string]string{"threads": "2"}
	r.BatchCurve = []report.BatchPoint{{Batch: 1, TokensPerSec: 100 / scale, SpeedupVsB1: 1}, {Batch: 8, TokensPerSec: 500 / scale, SpeedupVsB1: 5}}
	// Three repetitions of 64 tokens around 10 ms x scale, with a slow
	// token now and then (the tail the distribution chart shows).
	for rep := range 3 {
		var itl []float64
		for i := range 64 {
			v := 10 * scale * (1 + 0.02*float64((i*7+rep)%5))
			if i%21 == 20 {
				v *= 3
			}
			itl = append(itl, v)
		}
		r.Decode.InterTokenSamplesMS = append(r.Decode.InterTokenSamplesMS, itl)
	}
	r.Decode.InterTokenMS = report.NewDist(report.Pooled(r.Decode.InterTokenSamplesMS))
	r.Memory = &report.Memory{Source: "fixture", RSSAfterLoadMB: 300 * scale, RSSAfterPrefillMB: 360 * scale, RSSEndOfDecodeMB: 365 * scale,
		AnonBeforeSessionMB: 200, AnonAfterPrefillMB: 230, AnonEndOfDecodeMB: 240, Positions: 1216}
	r.Memory.CheckKV(report.KVShape{Layers: 30, KVHeads: 3, HeadDim: 64}, map[string]string{"type_k": "f16", "type_v": "f16", "n_ctx": "2048"}, 2048)
	r.PeakRSSMB = 400 * scale
	return r
}

func fixtureRun() Run {
	skipped := &report.Report{Backend: "openvino"}
	skipped.Status = "skipped"
	skipped.SkipReason = "runtime not found (tried: /nonexistent)"
	return Run{Label: "fixture", Rows: []*report.Report{
		fixtureRow("gokernel", "kernel", 1.25),
		fixtureRow("llamacpp", "tuned_reference", 1),
		skipped,
	}}
}
