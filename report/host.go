package report

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// simdFlags are the /proc/cpuinfo flags that decide which kernels run; the
// host record keeps these rather than the whole flag list.
var simdFlags = []string{
	"sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c",
	"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni",
	"avx512_bf16", "avx512_fp16", "avx512vbmi", "avx_vnni", "amx_tile",
	"amx_int8", "amx_bf16", "asimd", "asimddp", "sve", "i8mm",
}

// kernelFeatures are the CPU features that decide how fast LLM kernels run
// (wide vectors, int8 and bf16 dot products, matrix tiles), in cpuinfo
// names: the features a row is said to leave unused are among these.
var kernelFeatures = []string{
	"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512vbmi",
	"avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile",
	"amx_int8", "amx_bf16", "asimd", "asimddp", "sve", "i8mm",
}

// UnusedFeatures lists the kernel-relevant features of the node (the
// host's CPUFeatures) that a backend's code does not use, given the
// features it says it uses (Settings()["isa"], comma-separated cpuinfo
// names). It returns "none" when it uses them all, and "" when either list
// is unknown.
func UnusedFeatures(h *Host, isa string) string {
	if h == nil || h.CPUFeatures == "" {
		return ""
	}
	used := map[string]bool{}
	for _, f := range strings.Split(isa, ",") {
		used[strings.TrimSpace(f)] = true
	}
	node := map[string]bool{}
	for _, f := range strings.Fields(h.CPUFeatures) {
		node[f] = true
	}
	var out []string
	for _, f := range kernelFeatures {
		if node[f] && !used[f] {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}

// CPUInfo is what /proc/cpuinfo says about the processor.
type CPUInfo struct {
	// Model is the first "model name" line.
	Model string
	// Flags are the SIMD-relevant flags of the first processor, in the
	// order of simdFlags.
	Flags []string
	// Logical is the number of "processor" entries.
	Logical int
	// Physical is the number of distinct (physical id, core id) pairs, or 0
	// when the file does not give them.
	Physical int
}

// ParseCPUInfo reads a /proc/cpuinfo listing.
func ParseCPUInfo(r io.Reader) (CPUInfo, error) {
	var info CPUInfo
	cores := map[string]bool{}
	physID, coreID := "", ""
	haveCore := false
	flush := func() {
		if haveCore {
			cores[physID+"/"+coreID] = true
		}
		physID, coreID, haveCore = "", "", false
	}
	var flags map[string]bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "processor":
			info.Logical++
		case "model name":
			if info.Model == "" {
				info.Model = val
			}
		case "flags", "Features":
			if flags == nil {
				flags = map[string]bool{}
				for _, f := range strings.Fields(val) {
					flags[f] = true
				}
			}
		case "physical id":
			physID = val
		case "core id":
			coreID = val
			haveCore = true
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return info, err
	}
	for _, f := range simdFlags {
		if flags[f] {
			info.Flags = append(info.Flags, f)
		}
	}
	info.Physical = len(cores)
	return info, nil
}

// PhysicalCores returns the number of physical cores from /proc/cpuinfo
// ("physical id"/"core id" pairs), falling back to runtime.NumCPU when the
// file is missing or does not list cores.
func PhysicalCores() int {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.NumCPU()
	}
	defer f.Close()
	info, err := ParseCPUInfo(f)
	if err != nil || info.Physical == 0 {
		return runtime.NumCPU()
	}
	return info.Physical
}

// ParseMemTotal returns MemTotal from a /proc/meminfo listing, in bytes.
func ParseMemTotal(r io.Reader) (int64, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb <= 0 {
				return 0, false
			}
			return kb * 1024, true
		}
	}
	return 0, false
}

// CCompilerVersion returns the first line of `cc --version`, or "" when no C
// compiler answers within a few seconds.
func CCompilerVersion() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "cc", "--version").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// CollectHost describes this machine: host name, OS and architecture, CPU
// model and SIMD flags and physical cores (/proc/cpuinfo), memory
// (/proc/meminfo), the Go version and the C compiler. Facts that cannot be
// read are left empty. Memory bandwidth is not measured here.
func CollectHost() Host {
	h := Host{OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(), Cores: runtime.NumCPU()}
	if name, err := os.Hostname(); err == nil {
		h.Name = name
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		if info, err := ParseCPUInfo(f); err == nil {
			h.CPUModel = info.Model
			h.CPUFeatures = strings.Join(info.Flags, " ")
			if info.Physical > 0 {
				h.Cores = info.Physical
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		if b, ok := ParseMemTotal(f); ok {
			h.MemoryGB = float64(b) / (1 << 30)
			h.MemoryGB = float64(int(h.MemoryGB*10+0.5)) / 10
		}
		f.Close()
	}
	h.CCompiler = CCompilerVersion()
	return h
}

// MeasureMemBandwidth estimates the node's memory bandwidth in GB/s (1e9
// bytes per second): threads goroutines each copy their share of a buffer
// of size bytes (far larger than the caches), counting the bytes read and
// written, and the best of rounds passes is kept. It returns 0 when size or
// rounds is not positive.
func MeasureMemBandwidth(size int64, threads, rounds int) float64 {
	if size <= 0 || rounds <= 0 {
		return 0
	}
	threads = max(threads, 1)
	per := int(size / 2 / int64(threads))
	if per <= 0 {
		return 0
	}
	type pair struct{ src, dst []byte }
	bufs := make([]pair, threads)
	for i := range bufs {
		bufs[i] = pair{make([]byte, per), make([]byte, per)}
		for j := 0; j < per; j += 4096 {
			bufs[i].src[j] = byte(j) // touch every page before timing
			bufs[i].dst[j] = 0
		}
	}
	best := 0.0
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		start := time.Now()
		for i := range bufs {
			wg.Add(1)
			go func(p pair) {
				defer wg.Done()
				copy(p.dst, p.src)
			}(bufs[i])
		}
		wg.Wait()
		el := time.Since(start).Seconds()
		if el > 0 {
			best = max(best, float64(2*per*threads)/el/1e9)
		}
	}
	return best
}
