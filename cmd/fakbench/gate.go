package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fakbench/fakbench/nodebench"
)

func init() {
	register(command{
		name:    "gate",
		summary: "check a node artifact directory against its manifest and the clean-box criteria",
		run:     runGate,
	})
}

const gateSynopsis = `usage: fakbench gate DIR [--clean-node] [--json] [--profile NAME]

Checks the artifact directory written by scripts/node_bench.sh (or fakbench
node-bench) and prints every criterion with pass/fail and the figure:
  artifacts                 every manifest file present with matching size and
                            sha256, no unlisted file, manifest complete
  uncapped                  FAK_WORKLOAD_PREFILL_CAP / FAK_WORKLOAD_PROMPT_CAP unset or 0
  full_run                  not a --short run
  batch_curve               every B up to the recorded bound for a batching backend
  batched_decode_threshold  speedup at the largest B over B=1 >= the profile's threshold
  reports_valid             correctness flags true, timings positive
  clean_node                passes only with --clean-node (an operator's assertion)

--clean-node asserts the node was not running the live multi-session fleet
load; it is refused for a --short or capped run. Profiles: ` + "cpu, gpu" + `
(default: the manifest's). Exit codes: 0 all pass; 1 a criterion failed;
2 usage error or unreadable directory.`

func runGate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("gate", gateSynopsis, stderr)
	clean := fs.Bool("clean-node", false, "assert the artifacts were captured on a node without the live fleet load")
	asJSON := fs.Bool("json", false, `print {"pass": bool, "criteria": [{"name", "pass", "detail"}]}`)
	profile := fs.String("profile", "", "hardware `profile` of the threshold table ("+strings.Join(nodebench.ProfileNames(), ", ")+"; default: the manifest's)")
	pos, code, ok := parseFlags(fs, args, 1)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "gate", "name one artifact directory")
	}
	res, err := nodebench.Gate(pos[0], nodebench.GateOptions{CleanNode: *clean, Profile: *profile})
	if err != nil {
		fmt.Fprintf(stderr, "fakbench gate: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		b, err := res.JSON()
		if err != nil {
			fmt.Fprintf(stderr, "fakbench gate: %v\n", err)
			return exitFailed
		}
		stdout.Write(b)
	} else {
		fmt.Fprint(stdout, res.Text())
	}
	if !res.Pass {
		return exitFailed
	}
	return exitOK
}
