// Package k8s holds the Kubernetes manifests of the node bench (the *.yaml
// files beside this test; README.md says how to apply them) and their test.
// No cluster runs where the tests run, and kubectl validates only against
// a server: so every manifest is decoded strictly into the Kubernetes API
// types (k8s.io/api; an unknown or duplicate field is an error), and the
// properties the node bench relies on are checked on the decoded objects.
package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The names the manifests share with each other, the Dockerfile and the
// README.
const (
	namespace     = "fakbench"
	artifactsPVC  = "fakbench-artifacts"
	cachePVC      = "fakbench-build-cache"
	artifactsPath = "/artifacts"
	cachePath     = "/cache"
	hostnameKey   = "kubernetes.io/hostname"
	ruleKey       = "fakbench.io/clean-node-rule"
	taintKey      = "fakbench.io/taint"
	labelKey      = "fakbench.io/node-label"
)

// objects are the decoded manifests of a directory.
type objects struct {
	namespaces []*corev1.Namespace
	pvcs       []*corev1.PersistentVolumeClaim
	jobs       []*batchv1.Job
	pods       []*corev1.Pod
	files      map[string]int // file -> number of objects
}

// documents splits a YAML stream at its "---" lines, dropping empty
// documents.
func documents(data []byte) [][]byte {
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(data), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^[ \t]*#.*$`).ReplaceAllString(d, "")) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

// addNew appends a new zero object to list and returns it, for a document
// to be decoded into.
func addNew[T any](list *[]*T) *T {
	v := new(T)
	*list = append(*list, v)
	return v
}

// decode reads one manifest document strictly into the API type its
// apiVersion and kind name; an unknown kind, an unknown field or a
// duplicate key is an error naming the file and the document.
func (o *objects) decode(file string, i int, doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return fmt.Errorf("%s document %d: %w", file, i+1, err)
	}
	var obj any
	switch tm.APIVersion + "/" + tm.Kind {
	case "v1/Namespace":
		obj = addNew(&o.namespaces)
	case "v1/PersistentVolumeClaim":
		obj = addNew(&o.pvcs)
	case "batch/v1/Job":
		obj = addNew(&o.jobs)
	case "v1/Pod":
		obj = addNew(&o.pods)
	default:
		return fmt.Errorf("%s document %d: apiVersion %q kind %q is not one this test decodes", file, i+1, tm.APIVersion, tm.Kind)
	}
	// The API server's strict field validation: YAML without duplicate
	// keys, then JSON decoded case-sensitively with unknown and duplicate
	// fields refused, each named by its path.
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return fmt.Errorf("%s document %d (%s): %w", file, i+1, tm.Kind, err)
	}
	strict, err := sigsjson.UnmarshalStrict(j, obj)
	if err == nil {
		err = errors.Join(strict...)
	}
	if err != nil {
		return fmt.Errorf("%s document %d (%s): %w", file, i+1, tm.Kind, err)
	}
	return nil
}

// load decodes every *.yaml file of dir.
func load(dir string) (*objects, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml in %s", dir)
	}
	o := &objects{files: map[string]int{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		docs := documents(data)
		if len(docs) == 0 {
			return nil, fmt.Errorf("%s holds no object", f)
		}
		for i, d := range docs {
			if err := o.decode(filepath.Base(f), i, d); err != nil {
				return nil, err
			}
		}
		o.files[filepath.Base(f)] = len(docs)
	}
	return o, nil
}

// guaranteed says whether a pod spec gets the Guaranteed QoS class (the
// kubelet's rule): every container, init containers included, has CPU and
// memory limits, and its requests, where given, equal them. The reason
// says which container breaks it.
func guaranteed(spec *corev1.PodSpec) (bool, string) {
	all := append(slices.Clone(spec.InitContainers), spec.Containers...)
	if len(all) == 0 {
		return false, "no container"
	}
	for _, c := range all {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			lim, ok := c.Resources.Limits[r]
			if !ok || lim.IsZero() {
				return false, fmt.Sprintf("container %s has no %s limit", c.Name, r)
			}
			if req, ok := c.Resources.Requests[r]; ok && req.Cmp(lim) != 0 {
				return false, fmt.Sprintf("container %s requests %s %s but its limit is %s", c.Name, r, req.String(), lim.String())
			}
		}
	}
	return true, ""
}

// splitTaint reads "key=value:Effect".
func splitTaint(s string) (key, value string, effect corev1.TaintEffect, ok bool) {
	kv, e, ok1 := strings.Cut(s, ":")
	k, v, ok2 := strings.Cut(kv, "=")
	return k, v, corev1.TaintEffect(e), ok1 && ok2 && k != "" && e != ""
}

// checkJob lists every way the node-bench Job breaks what the node bench
// relies on: one pod per selected node, the clean-node rule stated and
// enforced, artifacts on the shared volume under the node's name, the build
// at start (the image's entrypoint), no retry.
func checkJob(j *batchv1.Job, pvcs map[string]*corev1.PersistentVolumeClaim) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	s := j.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		bad("completionMode is not Indexed")
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions < 1 || *s.Completions != *s.Parallelism {
		bad("completions and parallelism must be equal and at least 1 (one pod per selected node, all at once)")
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 0 {
		bad("backoffLimitPerIndex must be 0: a retried index may land on a node that already ran")
	}
	if s.PodReplacementPolicy == nil || *s.PodReplacementPolicy != batchv1.Failed {
		bad("podReplacementPolicy must be Failed: no replacement pod while the old one still runs")
	}
	if s.ActiveDeadlineSeconds == nil {
		bad("no activeDeadlineSeconds: a pod that cannot be scheduled would wait forever")
	}
	tpl := s.Template
	pod := tpl.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		bad("restartPolicy %q: a failed node bench is not rerun in place (its folder would be moved aside)", pod.RestartPolicy)
	}

	// The rule is stated, on the Job and on every pod, with its taint and
	// its node label.
	rule := tpl.Annotations[ruleKey]
	if rule == "" || j.Annotations[ruleKey] != rule {
		bad("the clean-node rule (%s) must be stated on the Job and its pod template alike", ruleKey)
	}
	for _, k := range []string{taintKey, labelKey} {
		if tpl.Annotations[k] == "" || j.Annotations[k] != tpl.Annotations[k] {
			bad("annotation %s must be on the Job and its pod template alike", k)
		}
		if !strings.Contains(rule, tpl.Annotations[k]) {
			bad("the clean-node rule does not name %s %q", k, tpl.Annotations[k])
		}
	}

	// (1) The taint: the pod tolerates exactly it, forever.
	key, value, effect, ok := splitTaint(tpl.Annotations[taintKey])
	switch {
	case !ok:
		bad("%s %q is not key=value:Effect", taintKey, tpl.Annotations[taintKey])
	case effect != corev1.TaintEffectNoExecute:
		bad("the taint's effect is %s: only NoExecute evicts the pods already on the node", effect)
	default:
		taint := &corev1.Taint{Key: key, Value: value, Effect: effect}
		n := 0
		for _, t := range pod.Tolerations {
			if t.ToleratesTaint(logr.Discard(), taint, false) {
				n++
				if t.TolerationSeconds != nil {
					bad("the toleration of %s has tolerationSeconds: the pod would be evicted mid-run", tpl.Annotations[taintKey])
				}
			}
			if t.Operator == corev1.TolerationOpExists && t.Key == "" {
				bad("a toleration of every taint would let the pod onto nodes not cleared for it")
			}
		}
		if n != 1 {
			bad("the pod must tolerate the taint %s exactly once, found %d", tpl.Annotations[taintKey], n)
		}
	}

	// (2) Whole node: Guaranteed QoS with whole CPUs.
	if ok, why := guaranteed(&pod); !ok {
		bad("not Guaranteed QoS: %s", why)
	}
	for _, c := range pod.Containers {
		if cpu, ok := c.Resources.Limits[corev1.ResourceCPU]; ok && cpu.MilliValue()%1000 != 0 {
			bad("container %s: CPU %s is not whole CPUs (the static CPU manager gives exclusive cores only to whole CPUs)", c.Name, cpu.String())
		}
	}

	// (3) One bench per node: required anti-affinity against its own pods.
	found := false
	if a := pod.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
			if err == nil && term.TopologyKey == hostnameKey && !sel.Empty() && sel.Matches(labels.Set(tpl.Labels)) {
				found = true
			}
		}
	}
	if !found {
		bad("no required pod anti-affinity on %s whose selector matches the pod's own labels", hostnameKey)
	}

	// (4) Selection: the node selector is the recorded label.
	lk, lv, ok := strings.Cut(tpl.Annotations[labelKey], "=")
	if !ok || pod.NodeSelector[lk] != lv || len(pod.NodeSelector) != 1 {
		bad("nodeSelector %v is not exactly the recorded label %s", pod.NodeSelector, tpl.Annotations[labelKey])
	}

	// The container: the image's entrypoint (the build at start), the node
	// bench filed under the node's name on the artifacts volume.
	if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
		bad("the pod must hold exactly one container (the node bench owns the node)")
		return p
	}
	c := pod.Containers[0]
	if len(c.Command) != 0 {
		bad("the container overrides the image's entrypoint, which builds bin/fakbench for the node")
	}
	nodeName := false
	for _, e := range c.Env {
		if e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName" {
			nodeName = true
		}
	}
	if !nodeName {
		bad("no NODE_NAME from the downward API (spec.nodeName)")
	}
	want := []string{"scripts/node_bench.sh", "--host=$(NODE_NAME)", "--out=" + artifactsPath + "/$(NODE_NAME)"}
	if len(c.Args) < len(want) || !slices.Equal(c.Args[:len(want)], want) {
		bad("args %q must start with %q", c.Args, want)
	}
	if slices.Contains(c.Args, "--short") {
		bad("the Job runs the full node bench, not --short")
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
		if m.ReadOnly {
			bad("volume %s is mounted read-only", m.Name)
		}
	}
	claims := map[string]string{}
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			claims[v.Name] = v.PersistentVolumeClaim.ClaimName
		}
	}
	for path, claim := range map[string]string{artifactsPath: artifactsPVC, cachePath: cachePVC} {
		if got := claims[mounts[path]]; got != claim {
			bad("%s is not the volume claim %s (got %q)", path, claim, got)
		} else if pvc := pvcs[claim]; pvc == nil || !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
			bad("claim %s is not among the manifests with ReadWriteMany (every node writes to it)", claim)
		}
	}
	return p
}

func loadHere(t *testing.T) *objects {
	t.Helper()
	o, err := load(".")
	require.NoError(t, err)
	return o
}

func pvcMap(o *objects) map[string]*corev1.PersistentVolumeClaim {
	m := map[string]*corev1.PersistentVolumeClaim{}
	for _, p := range o.pvcs {
		m[p.Name] = p
	}
	return m
}

func TestManifestsDecodeStrictly(t *testing.T) {
	o := loadHere(t)
	assert.Len(t, o.namespaces, 1)
	assert.Len(t, o.jobs, 1)
	assert.Len(t, o.pods, 1, "the collector")
	assert.Len(t, o.pvcs, 2)
	var metas []metav1.ObjectMeta
	for _, n := range o.namespaces {
		assert.Equal(t, namespace, n.Name)
	}
	for _, p := range o.pvcs {
		metas = append(metas, p.ObjectMeta)
	}
	for _, j := range o.jobs {
		metas = append(metas, j.ObjectMeta)
	}
	for _, p := range o.pods {
		metas = append(metas, p.ObjectMeta)
	}
	for _, m := range metas {
		assert.Equal(t, namespace, m.Namespace, "%s is in the fakbench namespace", m.Name)
	}
}

// Strict decoding has teeth: a misspelt field, a duplicate key, a field at
// the wrong place and an unknown kind are refused with the file named.
func TestStrictDecodingRefuses(t *testing.T) {
	job, err := os.ReadFile("node-bench-job.yaml")
	require.NoError(t, err)
	cases := []struct{ old, repl, want string }{
		{"restartPolicy: Never", "restartPolicy: Never\n      restartPolicyy: Never", `unknown field "spec.template.spec.restartPolicyy"`},
		{"completionMode: Indexed", "completionMode: Indexed\n  completionMode: NonIndexed", `"completionMode" already set in map`},
		{"  completions: 3", "  completions: 3\n  replicas: 3", `unknown field "spec.replicas"`},
		{"apiVersion: batch/v1\nkind:", "apiVersion: batch/v2\nkind:", `apiVersion "batch/v2" kind "Job" is not one`},
		{"cpu: \"15\"", "cpu: fifteen", "quantities must match"},
	}
	for _, c := range cases {
		require.Contains(t, string(job), c.old)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "job.yaml"), bytes.Replace(job, []byte(c.old), []byte(c.repl), 1), 0o644))
		_, err := load(dir)
		if assert.Error(t, err, c.old) {
			assert.Contains(t, err.Error(), "job.yaml document 1")
			assert.Contains(t, err.Error(), c.want)
		}
	}
	_, err = load(t.TempDir())
	assert.ErrorContains(t, err, "no *.yaml")
}

func TestNodeBenchJob(t *testing.T) {
	o := loadHere(t)
	require.Len(t, o.jobs, 1)
	assert.Empty(t, checkJob(o.jobs[0], pvcMap(o)))
	// The pod runs as the image's user.
	df, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^USER (\d+):(\d+)\s*$`).FindSubmatch(df)
	require.NotNil(t, m, "the Dockerfile's USER uid:gid")
	sc := o.jobs[0].Spec.Template.Spec.SecurityContext
	require.NotNil(t, sc)
	require.NotNil(t, sc.RunAsUser)
	assert.Equal(t, string(m[1]), fmt.Sprint(*sc.RunAsUser))
	assert.Equal(t, string(m[2]), fmt.Sprint(*sc.FSGroup), "the volumes are writable by the image's group")
}

// checkJob has teeth: each broken property of a copy of the Job is named.
func TestCheckJobFindsEachFault(t *testing.T) {
	o := loadHere(t)
	pvcs := pvcMap(o)
	faults := map[string]func(j *batchv1.Job){
		"completionMode is not Indexed": func(j *batchv1.Job) { j.Spec.CompletionMode = nil },
		"completions and parallelism":   func(j *batchv1.Job) { *j.Spec.Parallelism = 1 },
		"backoffLimitPerIndex":          func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = nil },
		"podReplacementPolicy":          func(j *batchv1.Job) { j.Spec.PodReplacementPolicy = nil },
		"activeDeadlineSeconds":         func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = nil },
		"restartPolicy":                 func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
		"must be stated on the Job":     func(j *batchv1.Job) { delete(j.Annotations, ruleKey) },
		"only NoExecute evicts": func(j *batchv1.Job) {
			v := strings.Replace(j.Annotations[taintKey], "NoExecute", "NoSchedule", 1)
			j.Annotations[taintKey], j.Spec.Template.Annotations[taintKey] = v, v
		},
		"tolerate the taint": func(j *batchv1.Job) { j.Spec.Template.Spec.Tolerations = nil },
		"tolerationSeconds": func(j *batchv1.Job) {
			s := int64(60)
			j.Spec.Template.Spec.Tolerations[0].TolerationSeconds = &s
		},
		"toleration of every taint": func(j *batchv1.Job) {
			j.Spec.Template.Spec.Tolerations = append(j.Spec.Template.Spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpExists})
		},
		"not Guaranteed QoS: container node-bench requests cpu": func(j *batchv1.Job) {
			j.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2")
		},
		"has no memory limit": func(j *batchv1.Job) {
			delete(j.Spec.Template.Spec.Containers[0].Resources.Limits, corev1.ResourceMemory)
		},
		"is not whole CPUs": func(j *batchv1.Job) {
			q := resource.MustParse("1500m")
			j.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = q
			j.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = q
		},
		"no required pod anti-affinity": func(j *batchv1.Job) {
			j.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey = "topology.kubernetes.io/zone"
		},
		"nodeSelector": func(j *batchv1.Job) { j.Spec.Template.Spec.NodeSelector = nil },
		"exactly one container": func(j *batchv1.Job) {
			j.Spec.Template.Spec.Containers = append(j.Spec.Template.Spec.Containers, j.Spec.Template.Spec.Containers[0])
		},
		"overrides the image's entrypoint": func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Command = []string{"bash"} },
		"NODE_NAME":                        func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Env = nil },
		"must start with":                  func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Args[2] = "--out=/tmp/x" },
		"not --short": func(j *batchv1.Job) {
			j.Spec.Template.Spec.Containers[0].Args = append(j.Spec.Template.Spec.Containers[0].Args, "--short")
		},
		"/artifacts is not the volume claim fakbench-artifacts": func(j *batchv1.Job) {
			j.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName = "other"
		},
		"mounted read-only": func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].VolumeMounts[0].ReadOnly = true },
	}
	for want, breakIt := range faults {
		j := o.jobs[0].DeepCopy()
		breakIt(j)
		got := strings.Join(checkJob(j, pvcs), "\n")
		assert.Contains(t, got, want)
	}
	// A claim that is not shared fails too.
	rwo := map[string]*corev1.PersistentVolumeClaim{}
	for k, v := range pvcs {
		c := v.DeepCopy()
		c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
		rwo[k] = c
	}
	assert.Contains(t, strings.Join(checkJob(o.jobs[0], rwo), "\n"), "ReadWriteMany")
}

// The collector serves the same artifacts volume, read-only, without the
// build (its command replaces the entrypoint), with the image the Job runs.
func TestCollectorPod(t *testing.T) {
	o := loadHere(t)
	require.Len(t, o.pods, 1)
	p := o.pods[0]
	require.Len(t, p.Spec.Containers, 1)
	c := p.Spec.Containers[0]
	assert.Equal(t, o.jobs[0].Spec.Template.Spec.Containers[0].Image, c.Image)
	assert.NotEmpty(t, c.Command, "the collector does not build anything")
	require.Len(t, c.VolumeMounts, 1)
	assert.Equal(t, artifactsPath, c.VolumeMounts[0].MountPath)
	assert.True(t, c.VolumeMounts[0].ReadOnly)
	require.Len(t, p.Spec.Volumes, 1)
	require.NotNil(t, p.Spec.Volumes[0].PersistentVolumeClaim)
	assert.Equal(t, artifactsPVC, p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName)
	ok, why := guaranteed(&p.Spec)
	assert.True(t, ok, why)
}

func TestGuaranteedRule(t *testing.T) {
	q := resource.MustParse
	spec := func(req, lim corev1.ResourceList) *corev1.PodSpec {
		return &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}}
	}
	full := corev1.ResourceList{corev1.ResourceCPU: q("2"), corev1.ResourceMemory: q("1Gi")}
	ok, _ := guaranteed(spec(full, full))
	assert.True(t, ok)
	ok, _ = guaranteed(spec(nil, full))
	assert.True(t, ok, "requests default to the limits")
	ok, why := guaranteed(spec(corev1.ResourceList{corev1.ResourceCPU: q("2000m"), corev1.ResourceMemory: q("1024Mi")}, full))
	assert.True(t, ok, "equal quantities in other units: %s", why)
	ok, why = guaranteed(spec(full, corev1.ResourceList{corev1.ResourceCPU: q("2")}))
	assert.False(t, ok)
	assert.Equal(t, "container c has no memory limit", why)
	s := spec(full, full)
	s.InitContainers = []corev1.Container{{Name: "init"}}
	ok, why = guaranteed(s)
	assert.False(t, ok)
	assert.Equal(t, "container init has no cpu limit", why)
	ok, why = guaranteed(&corev1.PodSpec{})
	assert.False(t, ok)
	assert.Equal(t, "no container", why)
}

func TestDocuments(t *testing.T) {
	docs := documents([]byte("# only a comment\n---\na: 1\n---  \n\n---\nb: 2\n"))
	require.Len(t, docs, 2)
	assert.Contains(t, string(docs[0]), "a: 1")
	assert.Contains(t, string(docs[1]), "b: 2")
}
