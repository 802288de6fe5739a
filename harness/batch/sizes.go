package batch

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSizes reads a comma-separated list of batch sizes ("1,2,4"): each at
// least 1, strictly increasing, at least one; blanks and empty items are
// ignored.
func ParseSizes(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a batch size >= 1", p)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("%v then %d: sizes must increase", out, n)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no batch sizes")
	}
	return out, nil
}
