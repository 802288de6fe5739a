package report

import "strings"

// The JSON paths of the report's sections, as Extras.NotRun names them.
// Each harness step is one of them.
var sectionPaths = map[string]string{
	"cold_full_prefill":     "cold_full_prefill",
	"warm_same_prefix":      "warm_same_prefix",
	"warm_changed_suffix":   "warm_changed_suffix",
	"edited_stable_segment": "edited_stable_segment",
	"decode":                "decode",
	"suffix_ttft_curve":     "suffix_ttft_curve",
	"over_context":          "failure_cases.over_context",
	"cancel_decode":         "failure_cases.cancel_decode",
}

// SectionPath returns the JSON path of a harness step's section ("decode",
// "failure_cases.cancel_decode"), or "" for an unknown step.
func SectionPath(step string) string { return sectionPaths[step] }

// SectionPaths lists every section's JSON path in report order.
func SectionPaths() []string {
	return []string{"cold_full_prefill", "warm_same_prefix", "warm_changed_suffix", "edited_stable_segment",
		"decode", "suffix_ttft_curve", "failure_cases.over_context", "failure_cases.cancel_decode"}
}

// Ran reports whether the section at path (a SectionPaths entry, or a
// field below one, e.g. "warm_changed_suffix.output_equals_cold") ran.
func (r *Report) Ran(path string) bool {
	for p := range r.NotRun {
		if path == p || strings.HasPrefix(path, p+".") {
			return false
		}
	}
	return true
}
