// Package cpuid reads the instruction-set features of the CPU this process
// runs on from /proc/cpuinfo, and computes the CPU fingerprint that the
// Makefile puts into the cgo flags as -DFAK_CPU_FINGERPRINT=<fp>
// (scripts/cpu_fingerprint.sh computes the same value in the shell).
//
// Why a fingerprint: the tuned build compiles llama.cpp with -march=native,
// and Go's build cache keys cgo objects by the flag string, not by the CPU.
// With the fingerprint in the flags each CPU gets its own cached objects, and
// a binary's build info says which CPU its native code was compiled for.
//
// The fingerprint is the first 12 hex digits of the sha256 of the ISA
// feature names (see ISA) every processor lists, sorted, one per line. Only
// features that decide what -march=native code may execute are hashed
// (isa_features.txt); flags that follow the kernel, the microcode or the
// hypervisor are not, so one CPU model keeps its fingerprint across kernel
// and host updates. The package is pure Go; /proc/cpuinfo is parsed by
// internal/host, the one reader of it.
package cpuid

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/fakbench/fakbench/internal/host"
)

// Define is the C preprocessor name under which the Makefile passes the
// fingerprint in CGO_CFLAGS and CGO_CXXFLAGS.
const Define = "FAK_CPU_FINGERPRINT"

// Path is where Linux describes the CPUs.
const Path = host.CPUInfoPath

//go:embed isa_features.txt
var featureList string

// Feature is an x86 instruction-set feature as /proc/cpuinfo names it
// ("avx512_vnni") and the macro C compilers predefine when they target it
// ("__AVX512VNNI__").
type Feature struct {
	Name  string
	Macro string
}

var features = sync.OnceValue(func() []Feature {
	fs, err := parseFeatureList(featureList)
	if err != nil {
		panic("cpuid: isa_features.txt: " + err.Error())
	}
	return fs
})

// Features lists the x86 features the fingerprint covers, in the order of
// isa_features.txt. The caller may modify the returned slice.
func Features() []Feature { return slices.Clone(features()) }

// parseFeatureList reads "name macro" lines; '#' starts a comment.
func parseFeatureList(text string) ([]Feature, error) {
	var out []Feature
	seen := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case len(f) != 2:
			return nil, fmt.Errorf("line %d: want \"cpuinfo-name MACRO\", got %q", i+1, strings.TrimSpace(line))
		case seen[f[0]]:
			return nil, fmt.Errorf("line %d: %s listed twice", i+1, f[0])
		}
		seen[f[0]] = true
		out = append(out, Feature{Name: f[0], Macro: f[1]})
	}
	if len(out) == 0 {
		return nil, errors.New("no features listed")
	}
	return out, nil
}

// CPU is what /proc/cpuinfo says about the instruction set.
type CPU struct {
	// Flags are the feature names every processor lists (x86 "flags", arm64
	// "Features"), sorted and de-duplicated.
	Flags []string
	// ISA are the features the fingerprint hashes, sorted: on x86 the Flags
	// that Features lists, elsewhere all Flags.
	ISA []string
	// Fingerprint is Fingerprint(ISA).
	Fingerprint string
}

// Has reports whether every processor lists the feature name.
func (c CPU) Has(name string) bool {
	_, ok := slices.BinarySearch(c.Flags, name)
	return ok
}

// Missing returns the names in want that the CPU does not list, sorted and
// de-duplicated (nil when it has them all).
func (c CPU) Missing(want []string) []string {
	var out []string
	for _, n := range want {
		if !c.Has(n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Fingerprint is the first 12 hex digits of the sha256 of the names, each
// followed by a newline, in byte order (what `printf '%s\n' | LC_ALL=C sort
// -u | sha256sum` gives). The names are sorted and de-duplicated first.
func Fingerprint(names []string) string {
	s := slices.Clone(names)
	slices.Sort(s)
	s = slices.Compact(s)
	h := sha256.New()
	for _, n := range s {
		io.WriteString(h, n+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Parse reads cpuinfo text (through internal/host's reader): the features
// common to every processor's "flags" line (x86), or, when there is none, to
// every "Features" line (arm64). It is an error when neither kind of line is
// present.
func Parse(r io.Reader) (CPU, error) {
	info, err := host.ParseCPUInfo(r)
	if err != nil {
		return CPU{}, fmt.Errorf("cpuid: reading cpuinfo: %w", err)
	}
	return fromInfo(info)
}

// fromInfo picks the CPU's features and ISA out of parsed cpuinfo.
func fromInfo(info host.CPUInfo) (CPU, error) {
	if info.FlagsKey == "" {
		return CPU{}, errors.New("cpuid: cpuinfo has no flags or Features line")
	}
	cpu := CPU{Flags: info.Flags}
	if info.FlagsKey == "flags" {
		for _, f := range features() {
			if cpu.Has(f.Name) {
				cpu.ISA = append(cpu.ISA, f.Name)
			}
		}
		slices.Sort(cpu.ISA)
	} else {
		cpu.ISA = slices.Clone(cpu.Flags)
	}
	cpu.Fingerprint = Fingerprint(cpu.ISA)
	return cpu, nil
}

// Read parses the cpuinfo file at path.
func Read(path string) (CPU, error) {
	info, err := host.ReadCPUInfo(path)
	if err != nil {
		return CPU{}, fmt.Errorf("cpuid: %w", err)
	}
	cpu, err := fromInfo(info)
	if err != nil {
		return CPU{}, fmt.Errorf("%w (%s)", err, path)
	}
	return cpu, nil
}

var current = sync.OnceValues(func() (CPU, error) { return Read(Path) })

// Current is this machine's CPU (Path, read once per process).
func Current() (CPU, error) { return current() }

// FromFlags returns the fingerprint that the compiler flags define
// (-DFAK_CPU_FINGERPRINT=<fp>; the last one wins, as in the compiler), or ""
// when they define none.
func FromFlags(flags string) string {
	fp := ""
	for _, f := range strings.Fields(flags) {
		if v, ok := strings.CutPrefix(f, "-D"+Define+"="); ok {
			fp = v
		}
	}
	return fp
}

// BuildFingerprint returns the fingerprint recorded in a binary's build
// settings (its CGO_CFLAGS and CGO_CXXFLAGS), or "" when neither carries
// one. It is an error when the two name different fingerprints, or only one
// of them names one: then the C and the C++ code were compiled for
// different CPUs.
func BuildFingerprint(settings []debug.BuildSetting) (string, error) {
	var c, cxx string
	for _, s := range settings {
		switch s.Key {
		case "CGO_CFLAGS":
			c = FromFlags(s.Value)
		case "CGO_CXXFLAGS":
			cxx = FromFlags(s.Value)
		}
	}
	if c != cxx {
		return "", fmt.Errorf("cpuid: CGO_CFLAGS carries CPU fingerprint %q but CGO_CXXFLAGS %q: the C and C++ code were compiled for different CPUs", c, cxx)
	}
	return c, nil
}

// BinaryFingerprint is BuildFingerprint of this binary's build info ("" when
// it carries none, as test binaries may not).
func BinaryFingerprint() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", nil
	}
	return BuildFingerprint(bi.Settings)
}
