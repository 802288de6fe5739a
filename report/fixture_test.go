package report

// fixture returns a fixed three-row run: tuned llama.cpp, the Go kernel and
// a skipped OpenVINO row.
func fixture() []*Report {
	ref := &Report{
		Model: "smol135m-q8_0", Backend: "llamacpp", Mode: "live_prefix_reuse", Profile: "tuned",
		BackendVersion:    "llama.cpp b6000",
		ColdFullPrefill:   ColdPrefill{Tokens: 512, MS: 1000, PromptTPS: 512, TTFTMS: 1000},
		WarmSamePrefix:    WarmSame{CachedTokens: 512, NewTokens: 0, MS: 0.5, TTFTMS: 20, HitRate: 1},
		WarmChangedSuffix: WarmChanged{CachedTokens: 512, SuffixTokens: 32, MS: 80, TTFTMS: 80, OutputEqualsCold: true},
		EditedStable:      EditedStable{ExpectedCacheMiss: true, ActualCacheMiss: true, OutputEqualsCold: true, MS: 500, TTFTMS: 520},
		Decode:            Decode{OutputTokens: 64, TokensPerSec: 100, RooflineTPS: 200, RooflineFrac: 0.5},
		SuffixTTFTCurve:   []SuffixTTFT{{SuffixTokens: 8, TTFTMS: 30}, {SuffixTokens: 64, TTFTMS: 120}},
		FailureCases:      FailureCases{OverContext: true, CancelDecode: true},
		Notes:             []string{"flash attention off for prefill"},
		Extras: Extras{
			SchemaVersion: SchemaVersion, RowKind: KindTunedReference, Status: StatusOK, BackendDisplay: "llama.cpp",
			Threads: 2, Repetitions: 5, Warmup: 1, ModelSpec: "synthetic:smol135m:q8_0",
			ModelDigest: "sha256:aaaa", TokenDigest: "sha256:tttt",
			Settings:   map[string]string{"flash_attn": "off", "n_ubatch": "512"},
			BuildFlags: "CGO_CFLAGS=-O3 -march=native",
			Command:    "fakbench run --backends gokernel,llamacpp --model synthetic:smol135m:q8_0 --out out",
			Host:       &Host{Name: "box", OS: "linux", Arch: "amd64", CPUModel: "Test CPU", Cores: 2, GoVersion: "go1.26"},
		},
	}
	kern := &Report{
		Model: "smol135m-q8_0", Backend: "gokernel", Mode: "live_prefix_reuse",
		BackendVersion:    "gokernel dev",
		ColdFullPrefill:   ColdPrefill{Tokens: 512, MS: 2000, PromptTPS: 256, TTFTMS: 2000},
		WarmSamePrefix:    WarmSame{CachedTokens: 512, NewTokens: 0, MS: 0.25, TTFTMS: 40, HitRate: 1},
		WarmChangedSuffix: WarmChanged{CachedTokens: 512, SuffixTokens: 32, MS: 160, TTFTMS: 160, OutputEqualsCold: true},
		EditedStable:      EditedStable{ExpectedCacheMiss: true, ActualCacheMiss: true, OutputEqualsCold: true},
		Decode:            Decode{OutputTokens: 64, TokensPerSec: 50},
		SuffixTTFTCurve:   []SuffixTTFT{{SuffixTokens: 8, TTFTMS: 60}, {SuffixTokens: 64, TTFTMS: 240}},
		FailureCases:      FailureCases{OverContext: true, CancelDecode: true},
		Extras: Extras{
			SchemaVersion: SchemaVersion, RowKind: KindKernel, Status: StatusOK,
			Threads: 2, Repetitions: 5, Warmup: 1, ModelSpec: "synthetic:smol135m:q8_0",
			ModelDigest: "sha256:aaaa", TokenDigest: "sha256:tttt",
			Command: "fakbench run --backends gokernel,llamacpp --model synthetic:smol135m:q8_0 --out out",
		},
	}
	skipped := &Report{
		Model: "smol135m-q8_0", Backend: "openvino", Mode: "live_prefix_reuse",
		Notes: []string{"skipped: runtime missing"},
		Extras: Extras{
			SchemaVersion: SchemaVersion, Status: StatusSkipped, BackendDisplay: "OpenVINO",
			SkipReason: "backend openvino unavailable: libopenvino_c.so not found",
		},
	}
	return []*Report{ref, kern, skipped}
}
