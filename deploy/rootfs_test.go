package deploy

import (
	"bufio"
	"debug/buildinfo"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/cpuid"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/nodebench"
)

// The images the Dockerfile names, and how a debootstrap root stands in
// for each: Debian 12 slim is `debootstrap --variant=minbase bookworm`
// (slim is minbase without documentation); the Go image is only a source
// of its /usr/local/go, the Go 1.26 toolchain, which this machine's own Go
// 1.26 replaces.
const (
	debianImage = "debian:12-slim"
	debianSuite = "bookworm"
	goImage     = "golang:1.26-bookworm"
	goVersion   = "go1.26"
	goRootInImg = "/usr/local/go"
)

// build is the state of the emulated image build: the root, the shell, the
// environment, the working directory, the user.
type build struct {
	t       *testing.T
	root    string
	stages  map[string]stage
	shell   []string
	env     map[string]string
	order   []string // ENV keys in the order they were set
	workdir string
	uid     int
	gid     int
	entry   []string
	cmd     []string
	log     io.Writer
}

// TestDockerfileInDebootstrapRoot carries out the Dockerfile in a clean
// Debian 12 root, the closest thing to a fresh machine that can be had
// without a Docker engine: debootstrap makes the root, every RUN step runs
// in it through chroot with the Dockerfile's shell, environment, working
// directory and user, COPY copies the build context as .dockerignore
// filters it. Then the container is started as Docker would (entrypoint
// and default command, in a network namespace of its own, so nothing can
// be fetched): the entrypoint must build bin/fakbench for this CPU into the
// cache volume, and a short node bench must leave an artifact set whose
// integrity the gate passes. Opt-in (FAK_ROOTFS_TEST=1), as root; tens of
// minutes.
func TestDockerfileInDebootstrapRoot(t *testing.T) {
	on, err := env.RootfsTest.Bool()
	require.NoError(t, err)
	if !on {
		t.Skip("opt-in: FAK_ROOTFS_TEST=1 (as root, with debootstrap installed) runs the Dockerfile in a debootstrap root")
	}
	require.Equal(t, 0, os.Geteuid(), "debootstrap and chroot need root")
	deboot, err := exec.LookPath("debootstrap")
	require.NoError(t, err, "apt-get install debootstrap")
	require.True(t, strings.HasPrefix(runtime.Version(), goVersion), "the Go toolchain copied for %s must be %s, this is %s", goImage, goVersion, runtime.Version())

	stages := readDockerfile(t)
	final := stages[len(stages)-1]
	require.Equal(t, debianImage, final.Image, "the debootstrap root stands in for %s only", debianImage)
	b := &build{t: t, stages: map[string]stage{}, shell: []string{"/bin/sh", "-c"}, workdir: "/", log: os.Stdout,
		env: map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}
	b.order = []string{"PATH"}
	for _, s := range stages[:len(stages)-1] {
		b.stages[s.Name] = s
	}

	b.root = env.RootfsDir.Value()
	if b.root == "" {
		b.root = filepath.Join(os.TempDir(), fmt.Sprintf("fakbench-rootfs-%d", os.Getpid()))
		t.Cleanup(func() { b.remove() })
	}
	if entries, err := os.ReadDir(b.root); err == nil && len(entries) > 0 {
		t.Fatalf("%s is not empty: the root must be made from scratch", b.root)
	}
	require.NoError(t, os.MkdirAll(b.root, 0o755))
	b.logf("root %s", b.root)

	start := time.Now()
	args := []string{"--variant=minbase", debianSuite, b.root}
	if m := debianMirror(); m != "" {
		args = append(args, m) // this machine's own apt source
	}
	b.step("debootstrap "+strings.Join(args, " "), func() error { return b.host(deboot, args...) })
	b.logf("debootstrap took %s", time.Since(start).Round(time.Second))
	// What Docker gives every container: the host's resolver, /proc and
	// the basic devices.
	require.NoError(t, copyFile("/etc/resolv.conf", filepath.Join(b.root, "etc", "resolv.conf"), 0o644))
	require.NoError(t, b.devices())
	// This machine reaches the package registries through a TLS-inspecting
	// egress proxy whose CA is installed locally; a Docker build here would
	// need it too. Debian's ca-certificates (the first RUN step installs it)
	// adds /usr/local/share/ca-certificates/*.crt to the system bundle.
	locals, err := filepath.Glob("/usr/local/share/ca-certificates/*.crt")
	require.NoError(t, err)
	for _, c := range locals {
		require.NoError(t, copyFile(c, filepath.Join(b.root, c), 0o644))
		b.logf("this machine's CA %s copied into the root", c)
	}
	// The Debian image's apt sources (bookworm, -updates, -security, as a
	// deb822 file) instead of debootstrap's one line, taken from this
	// machine, whose sources are a Debian 12 image's.
	const sources = "/etc/apt/sources.list.d/debian.sources"
	if _, err := os.Stat(sources); err == nil {
		require.NoError(t, copyFile(sources, filepath.Join(b.root, sources), 0o644))
		if err := os.Remove(filepath.Join(b.root, "etc", "apt", "sources.list")); err != nil && !os.IsNotExist(err) {
			require.NoError(t, err)
		}
	}
	proc := filepath.Join(b.root, "proc")
	require.NoError(t, syscall.Mount("proc", proc, "proc", 0, ""), "mount proc")
	t.Cleanup(func() { b.unmount(proc) })

	for _, in := range final.Ins {
		b.apply(in)
	}
	b.logf("image steps done after %s", time.Since(start).Round(time.Second))

	// The container's first start: entrypoint + default command.
	cpu, err := cpuid.Current()
	require.NoError(t, err)
	out := b.start(append(append([]string{}, b.entry...), b.cmd...))
	assert.Contains(t, out, "usage: fakbench <command>", "the default command prints the binary's help")
	bin := filepath.Join(b.root, strings.TrimPrefix(b.workdir, "/"), "bin", "fakbench")
	info, err := buildinfo.ReadFile(bin)
	require.NoError(t, err, "bin/fakbench in the root")
	fp, err := cpuid.BuildFingerprint(info.Settings)
	require.NoError(t, err)
	assert.Equal(t, cpu.Fingerprint, fp, "bin/fakbench was built for this CPU")
	cache := filepath.Join(b.root, strings.TrimPrefix(b.env["FAK_BUILD_CACHE"], "/"), cpu.Fingerprint, "go-build")
	entries, err := os.ReadDir(cache)
	require.NoError(t, err, "the build cache is keyed by the CPU fingerprint")
	assert.NotEmpty(t, entries)
	b.logf("first start done after %s", time.Since(start).Round(time.Second))

	// The Job's command: a short node bench into the artifacts volume.
	host := "rootfs"
	b.start(append(append([]string{}, b.entry...), "scripts/node_bench.sh", "--short", "--host="+host, "--out=/artifacts/"+host))
	v, err := nodebench.Gate(filepath.Join(b.root, "artifacts", host), nodebench.GateOptions{})
	require.NoError(t, err)
	b.logf("gate on the node bench's artifacts:\n%s", v.Text())
	got := map[string]bool{}
	for _, c := range v.Criteria {
		got[c.Name] = c.Pass
	}
	assert.True(t, got[nodebench.CriterionArtifacts], "artifacts")
	assert.True(t, got[nodebench.CriterionReportsValid], "reports_valid")
	b.logf("done after %s", time.Since(start).Round(time.Second))
}

func (b *build) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "rootfs: "+format+"\n", args...)
}

// step runs f, logging it with its duration, and stops the test when it
// fails.
func (b *build) step(what string, f func() error) {
	b.t.Helper()
	b.logf("step: %s", what)
	t0 := time.Now()
	err := f()
	b.logf("step done in %s (%s)", time.Since(t0).Round(time.Second), what)
	require.NoError(b.t, err, what)
}

// host runs a command on this machine, its output to the log.
func (b *build) host(name string, args ...string) error {
	c := exec.Command(name, args...)
	c.Stdout, c.Stderr = b.log, b.log
	return c.Run()
}

// apply carries out one instruction of the final stage.
func (b *build) apply(in instruction) {
	t := b.t
	t.Helper()
	at := fmt.Sprintf("Dockerfile:%d %s", in.Line, in.Cmd)
	switch in.Cmd {
	case "SHELL":
		sh, err := execForm(in)
		require.NoError(t, err)
		b.shell = sh
	case "ENV":
		pairs, err := envPairs(in, b.env)
		require.NoError(t, err)
		for _, p := range pairs {
			b.order = append(b.order, p[0])
		}
	case "WORKDIR":
		b.workdir = in.Args
		require.NoError(t, os.MkdirAll(filepath.Join(b.root, in.Args), 0o755), at)
	case "USER":
		b.uid, b.gid = b.user(in.Args)
	case "VOLUME":
		vols, err := execForm(in)
		require.NoError(t, err)
		for _, v := range vols {
			require.NoError(t, os.MkdirAll(filepath.Join(b.root, v), 0o755), at)
		}
	case "ENTRYPOINT":
		e, err := execForm(in)
		require.NoError(t, err)
		b.entry = e
	case "CMD":
		c, err := execForm(in)
		require.NoError(t, err)
		b.cmd = c
	case "COPY":
		b.step(at+" "+in.Args, func() error { return b.copy(in) })
	case "RUN":
		b.step(at+" "+in.Args, func() error {
			return b.chroot(append(append([]string{}, b.shell...), in.Args), false)
		})
	default:
		t.Fatalf("%s: not carried out", at)
	}
}

// copy carries out COPY: from an earlier stage (only the Go image's
// toolchain), or the build context as .dockerignore filters it, owned by
// root as Docker's COPY leaves it.
func (b *build) copy(in instruction) error {
	f := strings.Fields(in.Args)
	if len(f) != 2 {
		return fmt.Errorf("COPY SRC DST, got %q", in.Args)
	}
	if len(in.Flags) > 1 || (len(in.Flags) == 1 && in.Flags["from"] == "") {
		return fmt.Errorf("COPY flags %v: only --from is carried out", in.Flags)
	}
	src, dst := f[0], filepath.Join(b.root, f[1])
	if from, ok := in.Flags["from"]; ok {
		st, ok := b.stages[from]
		switch {
		case !ok:
			return fmt.Errorf("COPY --from=%s: no such stage", from)
		case st.Image != goImage || src != goRootInImg || len(st.Ins) > 0:
			return fmt.Errorf("COPY --from=%s %s: only %s of a bare %s stage is known", from, src, goRootInImg, goImage)
		}
		goroot, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return fmt.Errorf("go env GOROOT: %w", err)
		}
		return b.host("cp", "-a", strings.TrimSpace(string(goroot)), dst)
	}
	if src != "." {
		return fmt.Errorf("COPY %s: only the whole context (.) is carried out", src)
	}
	ignore := readDockerignore(b.t)
	ctx, err := filepath.Abs(repoRoot)
	if err != nil {
		return err
	}
	n := 0
	err = filepath.WalkDir(ctx, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(ctx, p)
		if err != nil || rel == "." {
			return err
		}
		if ignore.Excluded(filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, info.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			n++
			return os.Symlink(link, to)
		case d.Type().IsRegular():
			n++
			return copyFile(p, to, info.Mode().Perm())
		}
		return fmt.Errorf("%s: not a file, directory or link", rel)
	})
	b.logf("copied %d files of the context", n)
	return err
}

// chroot runs argv in the root as the current user, in the working
// directory, with exactly the image's environment; isolated puts it in a
// network namespace of its own (no network at all).
func (b *build) chroot(argv []string, isolated bool) error {
	c := &exec.Cmd{Path: argv[0], Args: argv, Dir: b.workdir, Stdout: b.log, Stderr: b.log}
	home := "/root"
	if b.uid != 0 {
		home = b.passwd(strconv.Itoa(b.uid), 2, 5)
	}
	c.Env = append(c.Env, "HOME="+home)
	for _, k := range dedupe(b.order) {
		c.Env = append(c.Env, k+"="+b.env[k])
	}
	c.SysProcAttr = &syscall.SysProcAttr{Chroot: b.root, Credential: &syscall.Credential{Uid: uint32(b.uid), Gid: uint32(b.gid)}}
	if isolated {
		c.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
	}
	return c.Run()
}

// start runs the container's command (entrypoint first) as the image's
// user, without network, and returns its stdout.
func (b *build) start(argv []string) string {
	b.t.Helper()
	var out strings.Builder
	log := b.log
	b.log = io.MultiWriter(log, &out)
	defer func() { b.log = log }()
	b.step("start "+strings.Join(argv, " "), func() error { return b.chroot(argv, true) })
	return out.String()
}

// user resolves USER name-or-uid[:group] against the root's passwd.
func (b *build) user(spec string) (int, int) {
	u, g, hasGroup := strings.Cut(spec, ":")
	uid, err := strconv.Atoi(u)
	if err != nil {
		uid, err = strconv.Atoi(b.passwd(u, 0, 2))
		require.NoError(b.t, err, "USER %s: not in the root's /etc/passwd", u)
	}
	gid, err := strconv.Atoi(g)
	if !hasGroup {
		gid, err = strconv.Atoi(b.passwd(strconv.Itoa(uid), 2, 3))
	}
	require.NoError(b.t, err, "USER %s: group", spec)
	return uid, gid
}

// passwd returns field want of the root's /etc/passwd line whose field key
// equals value ("" when none).
func (b *build) passwd(value string, key, want int) string {
	f, err := os.Open(filepath.Join(b.root, "etc", "passwd"))
	require.NoError(b.t, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Split(s.Text(), ":")
		if len(fields) == 7 && fields[key] == value {
			return fields[want]
		}
	}
	return ""
}

// devices makes the character devices a container has in /dev where
// debootstrap left them out, with the host's device numbers.
func (b *build) devices() error {
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		p := filepath.Join(b.root, "dev", name)
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat("/dev/"+name, &st); err != nil {
			return fmt.Errorf("/dev/%s: %w", name, err)
		}
		if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, int(st.Rdev)); err != nil {
			return fmt.Errorf("mknod %s: %w", p, err)
		}
		if err := os.Chmod(p, 0o666); err != nil {
			return err
		}
		b.logf("made %s", p)
	}
	return nil
}

// unmount undoes a mount in the root.
func (b *build) unmount(p string) {
	if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil {
		b.t.Errorf("umount %s: %v", p, err)
	}
}

// remove deletes the root, unless something is still mounted under it
// (removing a mounted /proc or /dev tree would reach the host's).
func (b *build) remove() {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		b.t.Errorf("cannot read the mount table, %s is left in place: %v", b.root, err)
		return
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], b.root) {
			b.t.Errorf("%s is still mounted; %s is left in place", f[1], b.root)
			return
		}
	}
	if err := os.RemoveAll(b.root); err != nil {
		b.t.Errorf("removing %s: %v", b.root, err)
	}
}

// debianMirror is the Debian mirror this machine's apt uses for the
// bookworm suite, or "" (debootstrap's default).
func debianMirror() string {
	if b, err := os.ReadFile("/etc/apt/sources.list.d/debian.sources"); err == nil {
		for _, para := range strings.Split(string(b), "\n\n") {
			var uri string
			suites := false
			for _, line := range strings.Split(para, "\n") {
				k, v, _ := strings.Cut(line, ":")
				switch strings.TrimSpace(k) {
				case "URIs":
					if f := strings.Fields(v); len(f) > 0 {
						uri = f[0]
					}
				case "Suites":
					for _, s := range strings.Fields(v) {
						suites = suites || s == debianSuite
					}
				}
			}
			if uri != "" && suites {
				return uri
			}
		}
	}
	if b, err := os.ReadFile("/etc/apt/sources.list"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "deb" && f[2] == debianSuite {
				return f[1]
			}
		}
	}
	return ""
}

func dedupe(keys []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// copyFile copies a file, making the directories above it.
func copyFile(from, to string, mode fs.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, b, mode)
}
