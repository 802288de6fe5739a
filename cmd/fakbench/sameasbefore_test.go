package main

import (
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness"
)

// beforeRedesign is the Go kernel's report written by the last commit
// before the package redesign (5452b76) for the command line below, on an
// Intel Xeon; the redesign promised the same CLI and the same JSON.
const beforeRedesign = "testdata/report-before-redesign.json"

// What differs between two runs of one command without the code changing:
// the timings, the host and build, the clock, and the CPU-dependent kernel
// choice. Such a field must be there on both sides when it is on the
// "before" side (unless it is CPU-dependent, as an empty feature list may
// be left out) but its value is not compared.
var (
	timingKey    = regexp.MustCompile(`(^|_)(ms|tps|tokens_per_sec|samples_ms|samples_tps|ttft_samples_ms|stats|peak_rss_mb)$`)
	volatileKeys = map[string]bool{"host": true, "build_flags": true, "command": true, "started_at": true,
		"finished_at": true, "backend_version": true, "isa": true, "kernels": true, "concurrent_benchmark": true,
		// A cancel lands after a timing-dependent number of tokens, and the
		// details say more when it lands mid-decode; the verdicts are compared.
		"details": true}
	cpuDependent = map[string]bool{"cpu_features_unused": true}
	digits       = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
	// addedOnPurpose are the fields the redesign added, each with why: a
	// reader of the old shape ignores them (additive, omitted when empty).
	addedOnPurpose = map[string]string{
		".backend_display":                       "the registry's display name, so the renderers no longer spell backend names",
		".isolation":                             "where the row ran (issue 18: each backend in its own process by default)",
		".concurrent_benchmark":                  "set only when another benchmark measured on the node at the same time (issue 18)",
		".edited_stable_segment.ttft_samples_ms": "the edited-segment TTFT's samples, kept as the other TTFTs' are (issue 19)",
		".edited_stable_segment.stats":           "the edited-segment statistics, kept as cold_full_prefill's are (issue 19)",
		// Native evidence for the cache claims (issue 19): the engine's own
		// cache against the session's bookkeeping, and the reuse's cost.
		".cache_evidence": "where the native cache figures come from (issue 19)",
		".cold_full_prefill.native_cache_tokens_before": "the engine's cache on a fresh session: 0 (issue 19)",
		".cold_full_prefill.native_cache_tokens":        "the engine's cache after the cold EnsurePrefix (issue 19)",
		".warm_same_prefix.native_cache_tokens":         "the engine's cache after the warm EnsurePrefix (issue 19)",
		".warm_same_prefix.native_kept_tokens":          "the engine's cache when the warm EnsurePrefix began (issue 19)",
		".warm_same_prefix.reuse_cost_fraction":         "the warm reuse's cost over a cold recompute's (issue 19)",
		".warm_same_prefix.reuse_cost_bound":            "the bound on that fraction (issue 19)",
		".warm_same_prefix.reuse_cost_check":            "the timing check's verdict in words (issue 19)",
		".edited_stable_segment.native_cache_tokens":    "the engine's cache after the edited EnsurePrefix (issue 19)",
		".edited_stable_segment.native_kept_tokens":     "the engine's cache when the edited prefix's recompute began (issue 19)",
		// Text in (issue 14): a run whose token IDs were cut from a text
		// file records where they came from (set only with --prompt-file).
		".scenario.prompt_file":   "the --prompt-file the token IDs were cut from (issue 14)",
		".scenario.prompt_sha256": "the sha256 of that file's bytes (issue 14)",
		".scenario.tokenizer":     "the tokenizer that made the IDs, e.g. gpt2/smollm (issue 14)",
		// Latency as users feel it (issue 17): every inter-token latency
		// kept, and the percentiles of the TTFTs and inter-token latencies.
		".decode.inter_token_samples_ms":             "every kept repetition's inter-token latencies (issue 17)",
		".decode.inter_token_ms":                     "their p50/p90/p99, max and stddev (issue 17)",
		".cold_full_prefill.ttft_percentiles_ms":     "the cold TTFT's percentiles across repetitions (issue 17)",
		".warm_same_prefix.ttft_percentiles_ms":      "the warm same-prefix TTFT's percentiles (issue 17)",
		".warm_changed_suffix.ttft_percentiles_ms":   "the warm changed-suffix TTFT's percentiles (issue 17)",
		".edited_stable_segment.ttft_percentiles_ms": "the edited-segment TTFT's percentiles (issue 17)",
	}
	// notesAddedOnPurpose are the notes the redesign added to every report
	// (whole), each with why: they are taken out before the notes are
	// compared by position.
	// addedUnderOnPurpose are objects the redesign added whole: every field
	// below them is new.
	addedUnderOnPurpose = map[string]string{
		".warm_changed_suffix.logits":   "the warm-against-cold logit comparison (issue 19)",
		".warm_changed_suffix.power":    "the power check of output_equals_cold (issue 19)",
		".edited_stable_segment.logits": "the warm-against-cold logit comparison (issue 19)",
		".edited_stable_segment.power":  "the power check of output_equals_cold (issue 19)",
		".memory":                       "resident memory per phase and the KV cache check (issue 17)",
		".go_runtime":                   "the Go runtime's GC cycles, pauses, heap allocation and settings for the Go kernel row (issue 17)",
	}
	// notePrefixesAddedOnPurpose start notes the redesign added (with
	// figures in them), taken out like notesAddedOnPurpose.
	notePrefixesAddedOnPurpose = []string{
		"warm_changed_suffix: logits:", "edited_stable_segment: logits:",
		"warm_changed_suffix: power check:", "edited_stable_segment: power check:",
	}
	notesAddedOnPurpose = map[string]string{
		harness.ColdNote: "what cold means: an empty KV cache only, everything below the session warm (issue 19)",
	}
)

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// addedUnder reports whether key lies below an object added whole.
func addedUnder(key string) bool {
	for p := range addedUnderOnPurpose {
		if strings.HasPrefix(key, p+".") || strings.HasPrefix(key, p+"[") {
			return true
		}
	}
	return false
}

// dropNotesAddedOnPurpose removes notesAddedOnPurpose from a decoded
// report's notes.
func dropNotesAddedOnPurpose(v any) {
	m, _ := v.(map[string]any)
	notes, ok := m["notes"].([]any)
	if !ok {
		return
	}
	kept := notes[:0]
	for _, n := range notes {
		if s, _ := n.(string); notesAddedOnPurpose[s] == "" && !hasAnyPrefix(s, notePrefixesAddedOnPurpose) {
			kept = append(kept, n)
		}
	}
	m["notes"] = kept
}

// flatten maps every leaf of a decoded JSON document to its path; strings
// are kept with their numbers masked (notes and details quote timings).
func flatten(v any, path string, out map[string]any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			key := path + "." + k
			switch {
			case timingKey.MatchString(k), volatileKeys[k]:
				out[key] = "<volatile>"
			case cpuDependent[k]:
			default:
				flatten(x, key, out)
			}
		}
	case []any:
		for i, x := range t {
			flatten(x, path+"["+itoa(i)+"]", out)
		}
		if len(t) == 0 {
			out[path] = "[]"
		}
	case string:
		out[path] = digits.ReplaceAllString(t, "#")
	default:
		out[path] = t
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// The redesign changed no field of the report: the same command writes the
// same fields with the same values, timings and host facts aside.
func TestReportSameAsBeforeRedesign(t *testing.T) {
	out := t.TempDir()
	cliOK(t, "run", "--backends", "gokernel", "--model", "synthetic:tiny", "--short",
		"--threads", "1", "--reps", "1", "--warmup", "0", "--seed", "1", "--membw", "-1", "--quiet", "--out", out)

	read := func(path string) map[string]any {
		v := readJSON[any](t, path)
		dropNotesAddedOnPurpose(v)
		flat := map[string]any{}
		flatten(v, "", flat)
		return flat
	}
	before, after := read(beforeRedesign), read(filepath.Join(out, "gokernel.json"))
	require.Greater(t, len(before), 80, "the fixture is a whole report")

	var missing, added []string
	for k, v := range before {
		got, ok := after[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		assert.Equal(t, v, got, "field %s", k)
	}
	for k := range after {
		if _, ok := before[k]; !ok && addedOnPurpose[k] == "" && !addedUnder(k) {
			added = append(added, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(added)
	assert.Empty(t, missing, "fields the report had before the redesign")
	assert.Empty(t, added, "fields the report did not have before the redesign")
}
