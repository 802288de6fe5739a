package openvino

import (
	"fmt"
	"os"
	"testing"

	"github.com/fakbench/fakbench/internal/env"
)

// TestMain points the project's cache folder (FAK_CACHE_DIR, where the
// backend keeps its IRs by default) at a fresh temporary folder for the
// whole package, so the tests never write IRs into the user's cache and
// never find one a previous run left there. Tests that need a cache of
// their own set it again with t.Setenv (openTiny does).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fakbench-openvino-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "openvino tests: a temporary cache folder:", err)
		os.Exit(2)
	}
	if err := os.Setenv(env.CacheDir.Name, dir); err != nil {
		fmt.Fprintln(os.Stderr, "openvino tests:", err)
		os.Exit(2)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}
