package report

import (
	"fmt"
	"path/filepath"
)

// ReadRuns reads the reports of each run directory (ReadDirFiles) for a
// comparison, in order, keeping each directory as given (RunSet.Dir) and
// the file of every report (RunSet.Files). Each run is labelled by its
// directory's base name, or by the path as given when two base names
// collide.
func ReadRuns(dirs []string) ([]RunSet, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("report: no run directory given")
	}
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
		rs, files, err := ReadDirFiles(d)
		if err != nil {
			return nil, err
		}
		runs = append(runs, RunSet{Label: label, Dir: d, Reports: rs, Files: files})
	}
	return runs, nil
}

// ReadComparable reads the run directories (ReadRuns) and refuses, with a
// *MismatchError naming every difference per directory or per file, runs
// that did not do the same work (CheckComparable): another model, other
// token IDs, other scenario sizes, --short against a full run, or a folder
// mixing the files of two runs. With allowMismatch it returns such runs
// anyway; CompareMarkdown and the HTML page then open with the same list
// as a warning.
func ReadComparable(dirs []string, allowMismatch bool) ([]RunSet, error) {
	runs, err := ReadRuns(dirs)
	if err != nil {
		return nil, err
	}
	if ms := CheckComparable(runs); len(ms) > 0 && !allowMismatch {
		return nil, &MismatchError{Mismatches: ms}
	}
	return runs, nil
}
