package env

// This file declares every FAK_* variable, one declaration each. ReadBy and
// SetBy name repository paths; TestReadersMatchTheCode checks them against
// the code, so move a reader and the test says which declaration to update.

// Variables the fakbench binary and its packages read.
var (
	// Kernel picks the Go kernel's kernel set.
	Kernel = str(Var{
		Name:    "FAK_KERNEL",
		Scope:   Program,
		Default: "the widest set this CPU runs: amx (AVX-512 VNNI and AMX int8 tiles, granted by Linux), else avx512 (AVX-512 F, BW, VL and VNNI), else avx2 (AVX2, FMA, F16C), else generic",
		ReadBy:  []string{"gokernel/kernels", "gokernel"},
		Doc: "Picks the Go kernel's kernel set once, at start-up: `generic` (the pure-Go kernels), `avx2`, `avx512` or `amx`. " +
			"An unknown name, or a set the CPU cannot run, makes the gokernel backend refuse to open with the reason (kernels.EnvError), so no row is measured with another set than the one asked for.",
	})

	// LlamaLog copies llama.cpp's and ggml's log to stderr.
	LlamaLog = boolean(Var{
		Name:    "FAK_LLAMA_LOG",
		Scope:   Program,
		Default: "off: the log is dropped (a model load still captures it internally)",
		ReadBy:  []string{"llamacpp"},
		Doc: "1 copies llama.cpp's and ggml's log to stderr, read once at start-up; run with it to see why llama.cpp refused a model file. " +
			"A value other than 0 or 1 leaves the log off, as at start-up there is no caller to report it to.",
	})

	// OpenVINOLib points at the OpenVINO C API library.
	OpenVINOLib = path(Var{
		Name:    "FAK_OPENVINO_LIB",
		Scope:   Program,
		Default: "searched: the project's .venv (next to the binary, the working directory or a parent, the module root), the loader path, /opt/intel/openvino*",
		ReadBy:  []string{"openvino"},
		Doc: "The OpenVINO C API library (`libopenvino_c.so.<version>`) or a directory holding it. " +
			"When set, only that location is tried: a wrong value makes the openvino backend unavailable, naming the value, instead of falling back to another runtime.",
	})

	// CacheDir is where generated synthetic models are kept.
	CacheDir = path(Var{
		Name:    "FAK_CACHE_DIR",
		Scope:   Program,
		Default: "$XDG_CACHE_HOME/fakbench, else ~/.cache/fakbench, else fakbench-cache in the OS temporary directory",
		ReadBy:  []string{"models"},
		Doc:     "Directory where `synthetic:PRESET[:TYPE]` models are generated once and cached by digest.",
	})

	// ModelsDir is where real models are looked for first.
	ModelsDir = path(Var{
		Name:    "FAK_MODELS_DIR",
		Scope:   Program,
		Default: "not searched: .cache/models in the working directory or a parent, then next to the binary's parent directory",
		ReadBy:  []string{"models"},
		Doc:     "Directory searched first for the files of `real:NAME` models (`make setup` puts them in .cache/models).",
	})

	// WorkloadPrefillCap caps the prompts workload replay feeds.
	WorkloadPrefillCap = integer(Var{
		Name:    "FAK_WORKLOAD_PREFILL_CAP",
		Scope:   Program,
		Default: "uncapped (unset, empty or 0); `node-bench --short` sets 256 when it is unset",
		ReadBy:  []string{"harness/workload", "nodebench"},
		Doc: "Cuts every prompt that `fakbench workload replay` feeds to its first N tokens (N ≥ 2: stable tokens first, at least one suffix token kept). " +
			"Recorded in the manifest and every replay file; a capped run cannot pass the gate's `uncapped` criterion.",
	})

	// WorkloadPromptCap caps the prompts of the batch workload diagnostic.
	WorkloadPromptCap = integer(Var{
		Name:    "FAK_WORKLOAD_PROMPT_CAP",
		Scope:   Program,
		Default: "uncapped (unset, empty or 0); `node-bench --short` sets 256 when it is unset",
		ReadBy:  []string{"harness/workload", "nodebench"},
		Doc: "Caps the prompt length of the batch workload diagnostic (`fakbench batch --workload`) at N tokens (N ≥ 2); the canonical batch curve does not use it. " +
			"Recorded in the manifest; a capped run cannot pass the gate's `uncapped` criterion.",
	})

	// BatchWorkload adds the batch workload diagnostic to the node bench.
	BatchWorkload = boolean(Var{
		Name:    "FAK_BATCH_WORKLOAD",
		Scope:   Program,
		Default: "off",
		ReadBy:  []string{"nodebench"},
		Doc:     "1 makes `fakbench node-bench` also run the batch workload diagnostic (`batch/diag-batch-workload-<backend>.json`) and records that in the manifest.",
	})

	// NodeBenchCommand is the command line the node bench was started with.
	NodeBenchCommand = str(Var{
		Name:    "FAK_NODE_BENCH_COMMAND",
		Scope:   Program,
		Default: "the manifest records the fakbench command line alone",
		ReadBy:  []string{"nodebench"},
		SetBy:   []string{"scripts/node_bench.sh"},
		Doc:     "The script command line that started `fakbench node-bench`; the manifest's `command` records it, followed by the fakbench command it ran.",
	})
)

// Variables only tests and benchmarks read.
var (
	// RequireLlamacpp turns llama.cpp's skips into failures.
	RequireLlamacpp = boolean(Var{
		Name:    "FAK_REQUIRE_LLAMACPP",
		Scope:   Test,
		Default: "off: tests that need llama.cpp compiled in skip without it",
		ReadBy:  []string{"adapters/conformance", "adapters/conformance/sabotage", "llamacpp", "cmd/fakbench"},
		SetBy:   []string{".ci/run"},
		Doc:     "1 makes a test that needs llama.cpp fail, instead of skip, when the backend is unavailable.",
	})

	// RequireOpenVINO turns OpenVINO's skips into failures.
	RequireOpenVINO = boolean(Var{
		Name:    "FAK_REQUIRE_OPENVINO",
		Scope:   Test,
		Default: "off: tests that need the OpenVINO runtime skip without it",
		ReadBy:  []string{"adapters/conformance", "openvino"},
		SetBy:   []string{".ci/run"},
		Doc:     "1 makes a test that needs the OpenVINO runtime fail, instead of skip, when it cannot be loaded.",
	})

	// RequireBrowser turns the browser test's skip into a failure.
	RequireBrowser = boolean(Var{
		Name:    "FAK_REQUIRE_BROWSER",
		Scope:   Test,
		Default: "off: the browser tests skip without Chromium, and setup only warns",
		ReadBy:  []string{"internal/browsertest", "scripts/setup.d/50-chromium.sh"},
		SetBy:   []string{".ci/run"},
		Doc:     "1 makes the report.html browser tests fail, instead of skip, when no Chromium is found, and makes the setup step fail when it cannot install one.",
	})

	// Chromium names the browser the report.html tests drive.
	Chromium = str(Var{
		Name:    "FAK_CHROMIUM",
		Scope:   Test,
		Default: "the first of chromium, chromium-browser, google-chrome on PATH",
		ReadBy:  []string{"internal/browsertest", "scripts/setup.d/50-chromium.sh"},
		Doc:     "A browser command or path tried first by the report.html browser tests; when set, setup does not install Chromium.",
	})

	// ScreenshotDir keeps the browser test's screenshot.
	ScreenshotDir = path(Var{
		Name:    "FAK_SCREENSHOT_DIR",
		Scope:   Test,
		Default: "the screenshot is not kept",
		ReadBy:  []string{"report/html"},
		Doc:     "Directory where the browser test writes `report-fixture.png`, its screenshot of the fixture report.",
	})

	// ReportHTML names a real report for the browser test.
	ReportHTML = path(Var{
		Name:    "FAK_REPORT_HTML",
		Scope:   Test,
		Default: "the test skips",
		ReadBy:  []string{"report/html"},
		Doc:     "A report.html (for example out/bench/report.html after `make bench`) that the browser test renders and checks.",
	})

	// BenchModel is the model the backend benchmarks load.
	BenchModel = str(Var{
		Name:    "FAK_BENCH_MODEL",
		Scope:   Test,
		Default: "synthetic:smol135m-untied:q8_0 (the openvino benchmark writes a random q8_0 file of that shape)",
		ReadBy:  []string{"llamacpp", "openvino"},
		Doc:     "The model of the backend benchmarks: a .gguf file (openvino, llamacpp) or `synthetic:PRESET[:TYPE]` (llamacpp).",
	})

	// BenchThreads is the thread count of the backend benchmarks.
	BenchThreads = integer(Var{
		Name:    "FAK_BENCH_THREADS",
		Scope:   Test,
		Default: "llamacpp: 0, the backend's default (physical cores); openvino: 2",
		ReadBy:  []string{"llamacpp", "openvino"},
		Doc:     "Thread count of the llamacpp and openvino benchmarks.",
	})

	// BenchIRCache is where the openvino benchmark keeps its IR.
	BenchIRCache = path(Var{
		Name:    "FAK_BENCH_IR_CACHE",
		Scope:   Test,
		Default: "a fresh temporary directory per benchmark, so the GGUF-to-IR conversion is measured",
		ReadBy:  []string{"openvino"},
		Doc:     "IR cache directory of the openvino benchmark; a directory shared between runs reuses the IR, and convert-ms then reads 0.",
	})

	// RealModel overrides the real model file of the openvino tests.
	RealModel = path(Var{
		Name:    "FAK_REAL_MODEL",
		Scope:   Test,
		Default: ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf (the tests skip when it is absent)",
		ReadBy:  []string{"openvino"},
		Doc:     "The real GGUF model the openvino real-model tests run (SmolLM2-135M-Instruct Q4_1 by default).",
	})

	// RootfsTest turns on the Dockerfile's run in a debootstrap root.
	RootfsTest = boolean(Var{
		Name:    "FAK_ROOTFS_TEST",
		Scope:   Test,
		Default: "off: the test skips",
		ReadBy:  []string{"deploy"},
		Doc: "1 runs deploy's TestDockerfileInDebootstrapRoot: a clean Debian 12 root made with debootstrap (as root; `apt-get install debootstrap`), " +
			"every RUN step of the Dockerfile in it through chroot, then the entrypoint's build and a short node bench; tens of minutes and a few GB.",
	})

	// RootfsDir keeps the debootstrap root of that test.
	RootfsDir = path(Var{
		Name:    "FAK_ROOTFS_DIR",
		Scope:   Test,
		Default: "a temporary directory, removed afterwards",
		ReadBy:  []string{"deploy"},
		Doc:     "Directory (missing or empty) where TestDockerfileInDebootstrapRoot builds its Debian 12 root, kept afterwards for inspection.",
	})

	// SynthMarginPreset asks the margin test to measure another preset.
	SynthMarginPreset = str(Var{
		Name:    "FAK_SYNTH_MARGIN_PRESET",
		Scope:   Test,
		Default: "the test skips",
		ReadBy:  []string{"models"},
		Doc:     "`preset:type:sequences:length` (e.g. smol135m-untied:q8_0:4:32) makes TestMarginsPreset measure the logit margins of that synthetic model; minutes and about 2 GB for smol135m-untied.",
	})
)

// Variables only scripts read, and build-time names.
var (
	// OpenVINOVersion is the OpenVINO wheel version setup installs.
	OpenVINOVersion = doc(Var{
		Name:    "FAK_OPENVINO_VERSION",
		Scope:   Script,
		Default: "2026.4.1",
		ReadBy:  []string{"scripts/setup.d/30-openvino.sh"},
		Doc:     "The version of the `openvino` wheel that `make setup` installs into .venv.",
	})

	// SkipOpenVINO skips the OpenVINO setup step.
	SkipOpenVINO = doc(Var{
		Name:    "FAK_SKIP_OPENVINO",
		Kind:    KindBool,
		Scope:   Script,
		Default: "off",
		ReadBy:  []string{"scripts/setup.d/30-openvino.sh"},
		Doc:     "1 makes `make setup` skip installing OpenVINO; the openvino backend then reports itself unavailable.",
	})

	// BuildCache is where the container keeps its Go build caches.
	BuildCache = doc(Var{
		Name:    "FAK_BUILD_CACHE",
		Scope:   Script,
		Default: "/cache (the image's volume; the Dockerfile sets it)",
		ReadBy:  []string{"scripts/container_entrypoint.sh"},
		Doc: "Directory under which the container's entrypoint keeps one Go build cache per CPU kind, `<dir>/<cpu fingerprint>/go-build`, " +
			"so a volume shared by nodes of several CPU kinds never hands one kind's -march=native objects to another.",
	})

	// CPUFingerprint is this CPU's instruction-set fingerprint in the cgo flags.
	CPUFingerprint = doc(Var{
		Name:    "FAK_CPU_FINGERPRINT",
		Scope:   Build,
		Default: "the output of scripts/cpu_fingerprint.sh",
		ReadBy:  []string{"Makefile", "scripts/check_build_cpu.sh", "internal/cpuid", "internal/buildisa"},
		Doc: "A make variable that the Makefile puts into CGO_CFLAGS and CGO_CXXFLAGS as `-DFAK_CPU_FINGERPRINT=<fp>`, so Go's build cache keeps each CPU's native objects apart; " +
			"internal/cpuid reads it back from the binary's build flags. Not read from the environment.",
	})
)
