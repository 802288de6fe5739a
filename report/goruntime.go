package report

// GoRuntime is what the Go runtime did while a backend that computes on
// the Go heap (the in-repo kernel) ran, read from runtime/metrics and
// runtime.ReadMemStats in the process that ran it: garbage-collection
// cycles, stop-the-world pauses and heap allocation per phase, the GC
// settings, and whether the decode's inter-token outliers coincide with a
// GC cycle.
type GoRuntime struct {
	// Source says where the figures come from and whose process it was.
	Source     string `json:"source"`
	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	// GOGC and GOMEMLIMIT are the effective settings (/gc/gogc:percent,
	// "off" when the collector is off; /gc/gomemlimit:bytes, "none" when
	// there is no limit); the *Env fields are the environment variables as
	// the process saw them ("(unset)" when they were not set).
	GOGC          string `json:"gogc"`
	GOGCEnv       string `json:"gogc_env"`
	GOMEMLIMIT    string `json:"gomemlimit"`
	GOMEMLIMITEnv string `json:"gomemlimit_env"`
	// SessionOpen, Prefill and Decode are the phases (GCPhase.What says
	// which calls each covers).
	SessionOpen GCPhase `json:"session_open"`
	Prefill     GCPhase `json:"prefill"`
	Decode      GCPhase `json:"decode"`
	// OutlierRule says which inter-token latencies are outliers, with
	// the threshold this row's came to (ms).
	OutlierRule  string  `json:"outlier_rule"`
	OutlierAbove float64 `json:"outlier_above_ms"`
	// Outliers are the kept decode tokens above the threshold; GCTokens
	// the kept decode tokens in which a GC cycle ended. OutliersWithGC
	// counts the outliers that are GC tokens too.
	Outliers       []TokenEvent `json:"outliers,omitempty"`
	GCTokens       []TokenEvent `json:"gc_tokens,omitempty"`
	OutliersWithGC int          `json:"outliers_with_gc"`
	// Verdict answers "does the collector show up in the tail?" in words.
	Verdict string `json:"verdict"`
}

// GCPhase is the Go runtime's activity over one phase of a run, summed
// over the kept repetitions.
type GCPhase struct {
	// What names the calls the phase covers.
	What string `json:"what"`
	// Repetitions and Tokens are what the phase summed over (tokens
	// computed or decoded).
	Repetitions int `json:"repetitions"`
	Tokens      int `json:"tokens"`
	// GCCycles is /gc/cycles/total:gc-cycles' growth.
	GCCycles uint64 `json:"gc_cycles"`
	// GCPauseTotalMS is the stop-the-world time of those cycles
	// (MemStats.PauseTotalNs' growth); GCPauseMaxMS the longest of one
	// cycle (the runtime sums a cycle's pauses) among the last 256.
	GCPauseTotalMS float64 `json:"gc_pause_total_ms"`
	GCPauseMaxMS   float64 `json:"gc_pause_max_ms"`
	// HeapAllocBytes and HeapAllocObjects are /gc/heap/allocs:bytes and
	// :objects' growth: what the phase allocated on the Go heap.
	HeapAllocBytes   uint64 `json:"heap_alloc_bytes"`
	HeapAllocObjects uint64 `json:"heap_alloc_objects"`
}

// TokenEvent is one kept decode token of note: its repetition (among the
// kept ones), its index in that repetition's decode, its inter-token
// latency, and the GC cycles that ended while it was computed, with their
// stop-the-world time.
type TokenEvent struct {
	Rep       int     `json:"rep"`
	Token     int     `json:"token"`
	MS        float64 `json:"ms"`
	GCCycles  int     `json:"gc_cycles"`
	GCPauseMS float64 `json:"gc_pause_ms,omitempty"`
}
