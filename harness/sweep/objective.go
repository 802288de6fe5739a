package sweep

import (
	"math"
	"strings"

	"github.com/fakbench/fakbench/report"
)

// Chosen is the configuration the sweep's objective picked: the tuned
// reference's settings. A run measures it again as its own row.
type Chosen struct {
	Config Config `json:"config"`
	// Score is its value of the objective (1 = the best eligible
	// configuration on every metric of the objective).
	Score float64 `json:"score"`
	// Metrics are the keys (report.Metric) the score was taken over.
	Metrics []string `json:"metrics"`
}

// objectiveLeftOut are the headline metrics the objective does not count,
// with why.
var objectiveLeftOut = map[string]string{
	"decode.roofline_fraction": "decode tok/s over the one roofline of the run, so among configurations the same ratio as decode.tokens_per_sec: counting it would weigh decode twice",
}

// objectiveKeys are the metrics of the objective: the headline metrics
// (report.HeadlineKeys) less objectiveLeftOut.
func objectiveKeys() []string {
	var out []string
	for _, k := range report.HeadlineKeys() {
		if _, skip := objectiveLeftOut[k]; !skip {
			out = append(out, k)
		}
	}
	return out
}

// Objective states how Choose picks the configuration.
func Objective() string {
	return "the highest geometric mean, over the headline metrics " + strings.Join(objectiveKeys(), ", ") +
		" that every eligible configuration measured, of the configuration's figure relative to the best eligible configuration's" +
		" on that metric (figure / best where higher is better, best / figure where lower is better, so 1 is the best on every metric);" +
		" only configurations that pass every correctness check are eligible; a tie goes to the earlier configuration in grid order"
}

// Choose scores every eligible configuration by the objective (Objective)
// and sets s.Chosen to the best, s.Objective, and each eligible result's
// Score and Relative figures. With no eligible configuration s.Chosen is
// nil. A metric some eligible configuration did not measure (no figure, or
// zero) is left out of every score, so that all are scored alike; when none
// is left, every score is 1 and the first eligible configuration is chosen.
func (s *Sweep) Choose() {
	s.Chosen, s.Objective = nil, Objective()
	var eligible []int
	var reps []*report.Report
	for i := range s.Results {
		s.Results[i].Score, s.Results[i].Relative = 0, nil
		if !s.Results[i].Excluded && s.Results[i].Report != nil {
			eligible = append(eligible, i)
			reps = append(reps, s.Results[i].Report)
		}
	}
	if len(eligible) == 0 {
		return
	}
	byKey := map[string]report.Metric{}
	for _, m := range report.Metrics(reps) {
		byKey[m.Key] = m
	}
	type scored struct {
		m    report.Metric
		best float64
	}
	var metrics []scored
	var keys []string
	for _, k := range objectiveKeys() {
		m, ok := byKey[k]
		if !ok || m.Better == report.Info {
			continue
		}
		best, all := 0.0, true
		for _, r := range reps {
			v, ok := m.Value(r)
			if !ok || v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				all = false
				break
			}
			if best == 0 || (m.Better == report.Higher && v > best) || (m.Better == report.Lower && v < best) {
				best = v
			}
		}
		if all {
			metrics = append(metrics, scored{m, best})
			keys = append(keys, k)
		}
	}
	chosen := -1
	for _, i := range eligible {
		res := &s.Results[i]
		res.Relative = map[string]float64{}
		logSum := 0.0
		for _, sm := range metrics {
			v, _ := sm.m.Value(res.Report)
			rel := v / sm.best
			if sm.m.Better == report.Lower {
				rel = sm.best / v
			}
			res.Relative[sm.m.Key] = rel
			logSum += math.Log(rel)
		}
		res.Score = 1
		if len(metrics) > 0 {
			res.Score = math.Exp(logSum / float64(len(metrics)))
		}
		if chosen < 0 || res.Score > s.Results[chosen].Score {
			chosen = i
		}
	}
	s.Chosen = &Chosen{Config: s.Results[chosen].Config, Score: s.Results[chosen].Score, Metrics: keys}
	if len(metrics) == 0 {
		s.Notes = append(s.Notes, "no headline metric was measured by every eligible configuration: every score is 1 and the first eligible configuration is chosen")
	}
}
