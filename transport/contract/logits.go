package contract

import (
	"fmt"
	"math"
)

// CompareLogits returns the largest absolute difference and the cosine
// similarity of two equally long vectors, in float64, over the positions
// where both are finite, and the number of positions where either is not.
// The cosine of two zero vectors is 1 (they are equal), of a zero and a
// non-zero vector 0.
func CompareLogits(a, b []float32) (maxAbs, cosine float64, nonFinite int) {
	n := min(len(a), len(b))
	nonFinite = max(len(a), len(b)) - n
	var dot, na, nb float64
	for i := 0; i < n; i++ {
		x, y := float64(a[i]), float64(b[i])
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			nonFinite++
			continue
		}
		maxAbs = max(maxAbs, math.Abs(x-y))
		dot += x * y
		na += x * x
		nb += y * y
	}
	switch {
	case na == 0 && nb == 0:
		cosine = 1
	case na == 0 || nb == 0:
		cosine = 0
	default:
		cosine = max(-1, min(1, dot/(math.Sqrt(na)*math.Sqrt(nb))))
	}
	return maxAbs, cosine, nonFinite
}

// Margin is the gap between the largest and the second-largest finite
// value of v (0 with fewer than two finite values).
func Margin(v []float32) float64 {
	first, second := math.Inf(-1), math.Inf(-1)
	for _, f := range v {
		x := float64(f)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		if x > first {
			first, second = x, first
		} else if x > second {
			second = x
		}
	}
	if math.IsInf(second, -1) {
		return 0
	}
	return first - second
}

// Trace is a greedy continuation as a session produced it: the tokens, and
// for each the logits it was chosen from (nil when the session does not
// expose its logits).
type Trace struct {
	Tokens []int32
	Logits [][]float32
}

// Distance is how far two traces' logits are apart, step by step.
type Distance struct {
	// Compared says both traces carry logits for every step.
	Compared bool
	// MaxAbs and MinCosine are the worst step's figures; PerStepMaxAbs and
	// PerStepCosine every step's.
	MaxAbs, MinCosine            float64
	PerStepMaxAbs, PerStepCosine []float64
	// NonFinite counts logits that were NaN or infinite on either side.
	NonFinite int
}

// Within reports whether the distance is inside tol (the largest absolute
// logit difference allowed): compared, every logit finite, MaxAbs <= tol.
func (d Distance) Within(tol float64) bool {
	return d.Compared && d.NonFinite == 0 && d.MaxAbs <= tol
}

// Measure compares the logits of two traces over their common steps.
func Measure(a, b Trace) Distance {
	n := min(len(a.Logits), len(b.Logits))
	d := Distance{Compared: n > 0 && n == len(a.Tokens) && n == len(b.Tokens), MinCosine: 1}
	if !d.Compared {
		return Distance{}
	}
	for i := 0; i < n; i++ {
		m, c, bad := CompareLogits(a.Logits[i], b.Logits[i])
		d.PerStepMaxAbs = append(d.PerStepMaxAbs, m)
		d.PerStepCosine = append(d.PerStepCosine, c)
		d.MaxAbs = max(d.MaxAbs, m)
		d.MinCosine = min(d.MinCosine, c)
		d.NonFinite += bad
	}
	return d
}

// String says the distance in one phrase.
func (d Distance) String() string {
	if !d.Compared {
		return "logits not compared (the session does not expose them)"
	}
	return fmt.Sprintf("max |logit diff| %.3g, min cosine %.9f over %d steps", d.MaxAbs, d.MinCosine, len(d.PerStepMaxAbs))
}
