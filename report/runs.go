package report

import "path/filepath"

// ReadRuns reads the reports of each run directory (ReadDir) for a
// comparison, in order. Each run is labelled by its directory's base name,
// or by the path as given when two base names collide.
func ReadRuns(dirs []string) ([]RunSet, error) {
	count := map[string]int{}
	for _, d := range dirs {
		count[filepath.Base(filepath.Clean(d))]++
	}
	runs := make([]RunSet, 0, len(dirs))
	for _, d := range dirs {
		label := filepath.Base(filepath.Clean(d))
		if count[label] > 1 {
			label = filepath.Clean(d)
		}
		rs, err := ReadDir(d)
		if err != nil {
			return nil, err
		}
		runs = append(runs, RunSet{Label: label, Reports: rs})
	}
	return runs, nil
}
