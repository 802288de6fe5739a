package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

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

// MarshalJSON writes the report with every section listed in NotRun as
// null: a scenario that did not run has no figures and no verdicts, never
// zeros and false.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report // the same fields, without this method
	b, err := json.Marshal(plain(r))
	if err != nil || len(r.NotRun) == 0 {
		return b, err
	}
	paths := make([]string, 0, len(r.NotRun))
	for p := range r.NotRun {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return nullPaths(b, paths)
}

// nullPaths rewrites the JSON object b with the values at the dotted
// paths replaced by null, keeping the keys' order.
func nullPaths(b []byte, paths []string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("report: not a JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for first := true; dec.More(); first = false {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		var below []string
		for _, p := range paths {
			if p == key {
				raw = json.RawMessage("null")
			} else if rest, ok := strings.CutPrefix(p, key+"."); ok && len(raw) > 0 && raw[0] == '{' {
				below = append(below, rest)
			}
		}
		if len(below) > 0 && string(raw) != "null" {
			if raw, err = nullPaths(raw, below); err != nil {
				return nil, err
			}
		}
		if !first {
			out.WriteByte(',')
		}
		kb, _ := json.Marshal(key)
		out.Write(kb)
		out.WriteByte(':')
		out.Write(raw)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
