// Package layers is the module's package map as a rule: every package sits
// in one layer, and a package imports only packages of lower layers (its
// test checks the whole tree on every make check). A new package goes into
// the table before it builds on anything; docs/DEVELOPING.md says what each
// one owns.
package layers

// Table lists the module's packages (paths relative to the module), lowest
// layer first.
var Table = [][]string{
	// Foundations: no import from this module.
	{"transport", "gguf", "internal/env", "internal/host", "internal/buildisa", "internal/progress",
		"internal/layers", "internal/cliflags", "harness/artifact", "llamacpp/ggmlamx", "internal/splitmix"},
	// The contract's pieces, the report schema, the kernels, the registry,
	// the tokenizer read from a GGUF file; test support over a foundation
	// (edited GGUF copies, a headless browser).
	{"transport/session", "transport/contract", "internal/cpuid", "gokernel/kernels", "report",
		"adapters", "adapters/conformance/fake", "adapters/conformance/sabotage", "tokenizer",
		"gguf/gguftest", "internal/browsertest"},
	// Models and the renderers; the harness; the float64 reference forward
	// pass for tests.
	{"models", "report/formats", "report/html", "harness", "parity", "models/modeltest"},
	// The backends; what the harness measures besides the run; the kit.
	{"gokernel", "llamacpp", "openvino", "harness/batch", "harness/sweep", "harness/workload",
		"adapters/conformance"},
	// Every backend registered; the node bench's folder, manifest and gate;
	// the pieces of a node-bench folder for tests.
	{"adapters/all", "nodebench", "nodebench/evidencetest"},
	// A whole comparison, the one place a report is assembled; the fleet of
	// node-bench folders read together.
	{"bench", "fleet"},
	// The command line.
	{"cmd/fakbench"},
}
