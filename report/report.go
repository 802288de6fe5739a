// Package report holds the one JSON report shape that every backend emits
// (the report contract of docs/methodology.md, a compatibility contract),
// plus extras.
//
// Contract: every field of the contract keeps its JSON name and nesting.
// New facts are only ever added as extra fields (all with omitempty where a
// zero value would be ambiguous); none is renamed or dropped.
package report

// SchemaVersion is bumped when extras change incompatibly.
const SchemaVersion = "fakbench.report/v1"

// NoDivergence is first_divergence when the warm and cold outputs agree or
// no comparison ran (not_run and the notes say which); it is always
// written, since 0 means a divergence at the first token.
const NoDivergence = -1

// ColdPrefill measures a fresh prefill of the full stable prefix.
type ColdPrefill struct {
	Tokens    int     `json:"tokens"`
	MS        float64 `json:"ms"`
	PromptTPS float64 `json:"prompt_tps"`
	TTFTMS    float64 `json:"ttft_ms"`

	// Extras.
	SamplesMS     []float64 `json:"samples_ms,omitempty"`
	TTFTSamplesMS []float64 `json:"ttft_samples_ms,omitempty"`
	Stats         *Stats    `json:"stats,omitempty"`
	// TTFTPercentilesMS summarizes TTFTSamplesMS (PercentileRule).
	TTFTPercentilesMS *Dist `json:"ttft_percentiles_ms,omitempty"`
	// Native evidence (cache_evidence says where it comes from): the
	// positions the engine's own cache held on a fresh session before its
	// first call (0 for a provably cold one) and after EnsurePrefix.
	NativeCacheTokensBefore *int `json:"native_cache_tokens_before,omitempty"`
	NativeCacheTokens       *int `json:"native_cache_tokens,omitempty"`
}

// Decode measures generation throughput.
type Decode struct {
	OutputTokens int     `json:"output_tokens"`
	TokensPerSec float64 `json:"tokens_per_sec"`

	// Extras.
	ContextTokens   int       `json:"context_tokens,omitempty"`
	SamplesTPS      []float64 `json:"samples_tps,omitempty"`
	Stats           *Stats    `json:"stats,omitempty"`
	RooflineTPS     float64   `json:"roofline_tps,omitempty"`
	RooflineFrac    float64   `json:"roofline_fraction,omitempty"`
	WeightBytesRead int64     `json:"weight_bytes_per_token,omitempty"`
	// InterTokenSamplesMS are the inter-token latencies of every kept
	// repetition, one list per repetition: token i's is the time from the
	// return of the call that delivered token i-1 (the decode's start for
	// the first) to the return of the call that delivered it, each token
	// asked for with its own Decode(1) as a streaming client receives it.
	// InterTokenMS summarizes them all (PercentileRule).
	InterTokenSamplesMS [][]float64 `json:"inter_token_samples_ms,omitempty"`
	InterTokenMS        *Dist       `json:"inter_token_ms,omitempty"`
}

// EditedStable proves a changed stable segment is a precise cache miss (the
// edited prefix is recomputed, not falsely reused) and still equals a cold run.
type EditedStable struct {
	ExpectedCacheMiss bool `json:"expected_cache_miss"`
	ActualCacheMiss   bool `json:"actual_cache_miss"`
	OutputEqualsCold  bool `json:"output_equals_cold"`

	// Extras.
	EditAt          int       `json:"edit_at,omitempty"`
	ReusedTokens    int       `json:"reused_tokens,omitempty"`
	ComputedTokens  int       `json:"computed_tokens,omitempty"`
	MS              float64   `json:"ms,omitempty"`
	TTFTMS          float64   `json:"ttft_ms,omitempty"`
	SamplesMS       []float64 `json:"samples_ms,omitempty"`
	FirstDivergence int       `json:"first_divergence"`
	// TTFTSamplesMS are the kept repetitions' TTFTs (ttft_ms is their
	// median); Stats summarizes SamplesMS, as cold_full_prefill's does.
	TTFTSamplesMS []float64 `json:"ttft_samples_ms,omitempty"`
	Stats         *Stats    `json:"stats,omitempty"`
	// TTFTPercentilesMS summarizes TTFTSamplesMS (PercentileRule).
	TTFTPercentilesMS *Dist `json:"ttft_percentiles_ms,omitempty"`
	// Logits compares the warm output's logits with the cold run's; Power
	// is the comparison that must differ (cold on the edited prefix against
	// cold on the stable one) for output_equals_cold to mean anything.
	Logits *LogitCheck `json:"logits,omitempty"`
	Power  *PowerCheck `json:"power,omitempty"`
	// Native evidence (cache_evidence says where it comes from): the
	// positions the engine's own cache holds after the edited prefix's
	// EnsurePrefix, and held when its recompute began (the stale positions
	// from the edit on dropped: equal to reused_tokens).
	NativeCacheTokens *int `json:"native_cache_tokens,omitempty"`
	NativeKeptTokens  *int `json:"native_kept_tokens,omitempty"`
}

// LogitCheck is a warm-against-cold comparison of the logits every
// compared greedy step was chosen from.
type LogitCheck struct {
	// Compared says both sides exposed their logits (transport.LogitsReader).
	Compared bool `json:"compared"`
	// MaxAbsDiff and MinCosine are the worst step's figures.
	MaxAbsDiff float64 `json:"max_abs_diff"`
	MinCosine  float64 `json:"min_cosine"`
	// Tolerance is the largest difference the backend's warm path may show
	// and still be the same computation (adapters.Entry.LogitTolerance).
	Tolerance         float64   `json:"tolerance"`
	PerStepMaxAbsDiff []float64 `json:"per_step_max_abs_diff,omitempty"`
	PerStepCosine     []float64 `json:"per_step_cosine,omitempty"`
}

// PowerCheck is a comparison that must come out different for a
// correctness flag to have power: when its two sides agree (same tokens,
// logits within the tolerance) the flag cannot tell a broken warm path from
// a right one, and it is reported as not discriminating, never as true.
type PowerCheck struct {
	// Comparison says which two runs were compared.
	Comparison string `json:"comparison"`
	// Discriminating says the two differ: different tokens, or logits
	// further apart than the tolerance.
	Discriminating bool `json:"discriminating"`
	// FirstDivergence is the first differing token (-1: the same tokens).
	FirstDivergence int     `json:"first_divergence"`
	MaxAbsDiff      float64 `json:"max_abs_diff"`
	MinCosine       float64 `json:"min_cosine"`
	// Margin is MaxAbsDiff over the tolerance: how many tolerances apart
	// the two runs that must differ are (0 when logits were not compared).
	Margin float64 `json:"margin"`
}

// FailureCases records that error paths behave (true = handled as expected).
type FailureCases struct {
	OverContext  bool `json:"over_context"`
	CancelDecode bool `json:"cancel_decode"`

	// Extras.
	Details []string `json:"details,omitempty"`
}

// SuffixTTFT is one point on the headline curve: TTFT as the changed suffix grows.
type SuffixTTFT struct {
	SuffixTokens int     `json:"suffix_tokens"`
	TTFTMS       float64 `json:"ttft_ms"`

	// Extras.
	SamplesMS []float64 `json:"samples_ms,omitempty"`
}

// WarmChanged measures keeping the stable prefix warm while re-prefilling a
// changed volatile suffix.
type WarmChanged struct {
	CachedTokens     int     `json:"cached_tokens"`
	SuffixTokens     int     `json:"suffix_tokens"`
	MS               float64 `json:"ms"`
	TTFTMS           float64 `json:"ttft_ms"`
	OutputEqualsCold bool    `json:"output_equals_cold"`

	// Extras.
	SamplesMS       []float64 `json:"samples_ms,omitempty"`
	TTFTSamplesMS   []float64 `json:"ttft_samples_ms,omitempty"`
	FirstDivergence int       `json:"first_divergence"`
	// TTFTPercentilesMS summarizes TTFTSamplesMS (PercentileRule).
	TTFTPercentilesMS *Dist `json:"ttft_percentiles_ms,omitempty"`
	// Logits compares the warm output's logits with the cold run's; Power
	// is the comparison that must differ (cold on the stable prefix one
	// token short against cold on the whole prefix) for output_equals_cold
	// to mean anything.
	Logits *LogitCheck `json:"logits,omitempty"`
	Power  *PowerCheck `json:"power,omitempty"`
}

// WarmSame measures re-issuing the identical stable prefix on a live session.
type WarmSame struct {
	CachedTokens int     `json:"cached_tokens"`
	NewTokens    int     `json:"new_tokens"`
	MS           float64 `json:"ms"`
	TTFTMS       float64 `json:"ttft_ms"`
	HitRate      float64 `json:"hit_rate"`

	// Extras.
	SamplesMS     []float64 `json:"samples_ms,omitempty"`
	TTFTSamplesMS []float64 `json:"ttft_samples_ms,omitempty"`
	// TTFTPercentilesMS summarizes TTFTSamplesMS (PercentileRule).
	TTFTPercentilesMS *Dist `json:"ttft_percentiles_ms,omitempty"`
	// Native evidence (cache_evidence says where it comes from): the
	// positions the engine's own cache holds after the warm EnsurePrefix,
	// and held when it began (the suffix dropped: equal to cached_tokens).
	NativeCacheTokens *int `json:"native_cache_tokens,omitempty"`
	NativeKeptTokens  *int `json:"native_kept_tokens,omitempty"`
	// The timing check: the fastest warm EnsurePrefix over the cold cost of
	// the tokens it reports reused (ReuseCostFraction), which must not
	// exceed ReuseCostBound; ReuseCostCheck says what was found in words,
	// or why it was not judged.
	ReuseCostFraction float64 `json:"reuse_cost_fraction,omitempty"`
	ReuseCostBound    float64 `json:"reuse_cost_bound,omitempty"`
	ReuseCostCheck    string  `json:"reuse_cost_check,omitempty"`
}

// Report is the full local-node benchmark report (the report contract,
// docs/methodology.md) plus extras.
type Report struct {
	Model             string       `json:"model"`
	Backend           string       `json:"backend"`
	Mode              string       `json:"mode"`
	Profile           string       `json:"profile,omitempty"`
	BackendVersion    string       `json:"backend_version,omitempty"`
	ColdFullPrefill   ColdPrefill  `json:"cold_full_prefill"`
	WarmSamePrefix    WarmSame     `json:"warm_same_prefix"`
	WarmChangedSuffix WarmChanged  `json:"warm_changed_suffix"`
	EditedStable      EditedStable `json:"edited_stable_segment"`
	Decode            Decode       `json:"decode"`
	SuffixTTFTCurve   []SuffixTTFT `json:"suffix_ttft_curve,omitempty"`
	FailureCases      FailureCases `json:"failure_cases"`
	Notes             []string     `json:"notes,omitempty"`

	// Extras: everything needed to reproduce and audit the row.
	Extras
}

// Extras are the fields fakbench adds to the contract shape. They are inlined at
// the top level of the JSON object.
type Extras struct {
	SchemaVersion string `json:"schema_version,omitempty"`
	// RowKind labels the row per the tuned-reference policy: "tuned_reference",
	// "kernel", "ablation", "candidate_headroom" or "untuned".
	RowKind  string `json:"row_kind,omitempty"`
	RowLabel string `json:"row_label,omitempty"`
	Status   string `json:"status,omitempty"` // "ok", "skipped", "failed"
	// BackendDisplay is the name people know the backend by ("llama.cpp"),
	// from the registry.
	BackendDisplay string `json:"backend_display,omitempty"`
	// Isolation says where the backend ran: "process" (its own child
	// process: a native crash fails this row only, and peak_rss_mb is the
	// child's own) or "in_process".
	Isolation string `json:"isolation,omitempty"`
	// Oversubscribed says the run asked for more threads than the node has
	// logical cores (--oversubscribe).
	Oversubscribed bool `json:"oversubscribed,omitempty"`
	// Concurrent says another fakbench benchmark measured on the node at
	// the same time (seen through the node lock), so the figures are
	// distorted.
	Concurrent string `json:"concurrent_benchmark,omitempty"`
	// NotRun names the sections that did not run (their JSON path, one of
	// SectionPaths) with why. The report contract keeps such a section in
	// place, zero-valued (docs/methodology.md); NotRun is what says its
	// zeros and falses are no results: its verdicts are not checks and its
	// figures enter no comparison.
	NotRun map[string]string `json:"not_run,omitempty"`
	// ExpectedFailures are the correctness checks an ablation row fails by
	// design (metric keys, e.g. "warm_same_prefix.hit_rate" for a row
	// without prefix reuse): shown as expected, never counted.
	ExpectedFailures []string `json:"expected_failures,omitempty"`
	SkipReason       string   `json:"skip_reason,omitempty"`
	// CacheEvidence says where the sections' native_cache_tokens come from
	// (the engine's own cache, read through transport.CacheInspector), or
	// "none: ..." with why the backend cannot show it.
	CacheEvidence string `json:"cache_evidence,omitempty"`
	// Swept says the row's settings are the configuration a settings sweep
	// chose, and how (fakbench run --sweep); nil for any other row.
	Swept *Swept `json:"swept,omitempty"`

	Host        *Host             `json:"host,omitempty"`
	Threads     int               `json:"threads,omitempty"`
	Repetitions int               `json:"repetitions,omitempty"`
	Warmup      int               `json:"warmup,omitempty"`
	Short       bool              `json:"short,omitempty"`
	ModelSpec   string            `json:"model_spec,omitempty"`
	ModelDigest string            `json:"model_digest,omitempty"`
	ModelInfo   *ModelInfo        `json:"model_info,omitempty"`
	TokenDigest string            `json:"token_ids_digest,omitempty"`
	Settings    map[string]string `json:"settings,omitempty"`
	// CPUFeaturesUnused are the node's kernel-relevant CPU features the
	// backend's code does not use (UnusedFeatures), "none" when it uses
	// them all; settings.isa says which it uses.
	CPUFeaturesUnused string `json:"cpu_features_unused,omitempty"`
	BuildFlags        string `json:"build_flags,omitempty"`
	Command           string `json:"command,omitempty"`
	StartedAt         string `json:"started_at,omitempty"`
	FinishedAt        string `json:"finished_at,omitempty"`

	Scenario *ScenarioShape `json:"scenario,omitempty"`
	// Schedule says how the rows of the run shared the node.
	Schedule   *Schedule    `json:"schedule,omitempty"`
	BatchCurve []BatchPoint `json:"batch_curve,omitempty"`
	// PeakRSSMB is the peak resident set (VmHWM, MiB) of the process that
	// ran the backend, from just before it opened to the end of its last
	// section, read in that process: the row's child under process
	// isolation (docs/methodology.md, "Peak resident memory").
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
	// Memory is the resident memory per phase and the KV cache check;
	// GoRuntime the Go runtime's facts for a backend that computes on the
	// Go heap (the in-repo kernel). Both come from the process that ran
	// the backend.
	Memory    *Memory    `json:"memory,omitempty"`
	GoRuntime *GoRuntime `json:"go_runtime,omitempty"`
	// Comparison with the tuned references of the same run (kernel rows):
	// VsReference is the ratio to the best reference per metric (keyed by
	// metric, e.g. "decode.tokens_per_sec"), BestReference names that
	// reference per metric, VsReferences holds the ratios to each reference
	// row by name.
	VsReference   map[string]float64            `json:"vs_reference,omitempty"`
	BestReference map[string]string             `json:"best_reference,omitempty"`
	VsReferences  map[string]map[string]float64 `json:"vs_references,omitempty"`
}

// Host describes the machine a report was measured on.
type Host struct {
	Name        string  `json:"name"`
	OS          string  `json:"os"`
	Arch        string  `json:"arch"`
	CPUModel    string  `json:"cpu_model,omitempty"`
	CPUFeatures string  `json:"cpu_features,omitempty"`
	Cores       int     `json:"cores,omitempty"`
	MemoryGB    float64 `json:"memory_gb,omitempty"`
	GoVersion   string  `json:"go_version,omitempty"`
	CCompiler   string  `json:"c_compiler,omitempty"`
	MemBWGBs    float64 `json:"mem_bandwidth_gbs,omitempty"`
	// MemBWStatistic says how mem_bandwidth_gbs was obtained (measured:
	// host.BandwidthStatistic, over MemBWSamplesGBs; or given with --membw).
	MemBWStatistic  string    `json:"mem_bandwidth_statistic,omitempty"`
	MemBWSamplesGBs []float64 `json:"mem_bandwidth_samples_gbs,omitempty"`
}

// Schedule says how the rows of one run shared the node: interleaved (the
// rows take turns per section and repetition, in a rotating order, so a
// drift of the node lands on every row alike) or sequential.
type Schedule struct {
	Mode string `json:"mode"`
	// Rows are the rows that took part, in run order.
	Rows []string `json:"rows"`
	// Rule states the order in words.
	Rule string `json:"rule,omitempty"`
	// Rounds and Steps count the interleaved rounds and steps.
	Rounds int `json:"rounds,omitempty"`
	Steps  int `json:"steps,omitempty"`
	// FirstRounds is the row order of the first rounds, showing the rotation.
	FirstRounds [][]string `json:"first_rounds,omitempty"`
}

// ModelInfo is the model as the backend loaded it.
type ModelInfo struct {
	Name          string `json:"name,omitempty"`
	Architecture  string `json:"architecture,omitempty"`
	ContextLength int    `json:"context_length,omitempty"`
	VocabSize     int    `json:"vocab_size,omitempty"`
	Parameters    int64  `json:"parameters,omitempty"`
	WeightBytes   int64  `json:"weight_bytes,omitempty"`
	WeightType    string `json:"weight_type,omitempty"`
	FileBytes     int64  `json:"file_bytes,omitempty"`
}

// ScenarioShape records the token counts the scenarios used.
type ScenarioShape struct {
	StableTokens        int   `json:"stable_tokens"`
	SuffixTokens        int   `json:"suffix_tokens"`
	ChangedSuffixTokens int   `json:"changed_suffix_tokens"`
	EditAt              int   `json:"edit_at"`
	SuffixCurve         []int `json:"suffix_curve"`
	MaxDecode           int   `json:"max_decode"`
	CompareSteps        int   `json:"compare_steps"`
	// PromptFile, PromptSHA256 and Tokenizer are set when the token IDs
	// were cut from a text (fakbench run --prompt-file): the file as
	// given, the sha256 (hex) of its bytes and the tokenizer that made
	// the IDs (e.g. "gpt2/smollm").
	PromptFile   string `json:"prompt_file,omitempty"`
	PromptSHA256 string `json:"prompt_sha256,omitempty"`
	Tokenizer    string `json:"tokenizer,omitempty"`
}

// BatchPoint is one point of the batch curve.
type BatchPoint struct {
	Batch        int       `json:"batch"`
	TokensPerSec float64   `json:"tokens_per_sec"`
	SpeedupVsB1  float64   `json:"speedup_vs_b1"`
	SamplesTPS   []float64 `json:"samples_tps,omitempty"`
}

// Stats summarises repeated samples.
type Stats struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
}
