package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// obj is one rendered Kubernetes object.
type obj map[string]any

func (o obj) kind() string { s, _ := o["kind"].(string); return s }

// get walks a path of map keys and list indexes ("spec.template.spec").
func get(v any, path string) any {
	if o, ok := v.(obj); ok {
		v = map[string]any(o)
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, path string) string { s, _ := get(v, path).(string); return s }

func list(v any, path string) []any { l, _ := get(v, path).([]any); return l }

// rendered reads one `helm template` output (.ci/run renders the chart with
// the value sets named in renderedSets into SEINTJE_HELM_RENDERED_DIR).
func rendered(t *testing.T, set string) []obj {
	t.Helper()
	dir := providedFile(t, "SEINTJE_HELM_RENDERED_DIR", "helm template deploy/helm/seintje for each value set")
	b, err := os.ReadFile(filepath.Join(dir, set+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []obj
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o obj
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s.yaml: %v", set, err)
		}
		if o != nil {
			out = append(out, o)
		}
	}
	return out
}

func find(objs []obj, kind string) []obj {
	var out []obj
	for _, o := range objs {
		if o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func one(t *testing.T, objs []obj, kind string) obj {
	t.Helper()
	f := find(objs, kind)
	if len(f) != 1 {
		t.Fatalf("want one %s, rendered %d", kind, len(f))
	}
	return f[0]
}

// renderedSets are the value sets .ci/run renders, and the workload kind
// each must produce.
var renderedSets = map[string]string{
	"single":     "StatefulSet", // the defaults, plus ServiceMonitor and flows files
	"sentinel":   "StatefulSet",
	"cluster":    "StatefulSet",
	"deployment": "Deployment", // spool.persistence.enabled=false
}

var secretName = regexp.MustCompile(`(TOKEN|SECRET|PASSWORD|HASH_KEY)$`)

func TestHelmChartRendersSafeWorkload(t *testing.T) {
	for set, kind := range renderedSets {
		t.Run(set, func(t *testing.T) {
			objs := rendered(t, set)
			if s := find(objs, "Secret"); len(s) > 0 {
				t.Errorf("the chart renders a Secret: secrets must only be referenced")
			}
			w := one(t, objs, kind)
			pod := get(w, "spec.template.spec")
			if get(pod, "securityContext.runAsNonRoot") != true {
				t.Error("pod securityContext.runAsNonRoot is not true")
			}
			cs := list(pod, "containers")
			if len(cs) != 1 {
				t.Fatalf("want one container, got %d", len(cs))
			}
			c := cs[0]
			for path, want := range map[string]any{
				"securityContext.readOnlyRootFilesystem":   true,
				"securityContext.allowPrivilegeEscalation": false,
				"securityContext.runAsNonRoot":             true,
				"livenessProbe.httpGet.path":               "/healthz",
				"readinessProbe.httpGet.path":              "/readyz",
			} {
				if got := get(c, path); got != want {
					t.Errorf("container %s = %v, want %v", path, got, want)
				}
			}
			if !slices.Contains(list(c, "securityContext.capabilities.drop"), any("ALL")) {
				t.Error("container does not drop ALL capabilities")
			}
			if get(c, "resources.requests.cpu") == nil || get(c, "resources.requests.memory") == nil || get(c, "resources.limits.memory") == nil {
				t.Error("container has no resource requests and memory limit")
			}

			env := map[string]string{}
			for _, e := range list(c, "env") {
				name := str(e, "name")
				if _, ok := get(e, "value").(string); !ok {
					t.Errorf("env %s has no plain value (secrets come as files, not valueFrom)", name)
				}
				env[name] = str(e, "value")
				if secretName.MatchString(name) {
					t.Errorf("env %s holds a secret inline; secrets must come as %s_FILE from the Secret", name, name)
				}
			}
			mounts := map[string]string{}
			for _, m := range list(c, "volumeMounts") {
				mounts[str(m, "name")] = str(m, "mountPath")
			}
			secretDir := mounts["secrets"]
			if secretDir == "" {
				t.Fatal("no secrets volume mounted")
			}
			for _, need := range []string{"SEINTJE_HASH_KEY_FILE", "SEINTJE_API_TOKENS_FILE"} {
				if !strings.HasPrefix(env[need], secretDir+"/") {
					t.Errorf("%s = %q, want a file under %s", need, env[need], secretDir)
				}
			}
			var secretVol any
			for _, v := range list(pod, "volumes") {
				if str(v, "name") == "secrets" {
					secretVol = v
				}
			}
			if str(secretVol, "secret.secretName") == "" {
				t.Error("the secrets volume does not reference a Secret by name")
			}
			for name, val := range env {
				if strings.HasSuffix(name, "_FILE") && strings.HasPrefix(val, secretDir+"/") {
					key := strings.TrimPrefix(val, secretDir+"/")
					found := false
					for _, it := range list(secretVol, "secret.items") {
						found = found || str(it, "path") == key
					}
					if !found {
						t.Errorf("%s points at %s, which the secret volume does not project", name, key)
					}
				}
			}

			if env["SEINTJE_SPOOL_DIR"] == "" || mounts["spool"] != env["SEINTJE_SPOOL_DIR"] {
				t.Errorf("SEINTJE_SPOOL_DIR %q is not the spool volume's mount %q", env["SEINTJE_SPOOL_DIR"], mounts["spool"])
			}
			if kind == "StatefulSet" {
				vct := list(w, "spec.volumeClaimTemplates")
				if len(vct) != 1 || str(vct[0], "metadata.name") != "spool" {
					t.Error("StatefulSet has no spool volumeClaimTemplate")
				}
			}
			switch set {
			case "single", "deployment":
				if !strings.HasPrefix(env["REDIS_URL"], "redis") {
					t.Errorf("REDIS_URL = %q", env["REDIS_URL"])
				}
				if set == "single" { // rendered with an events subscriber (.ci/run)
					if env["SEINTJE_EVENTS_SUBSCRIBERS"] != "zaak-systeem" || env["SEINTJE_EVENTS_ZAAK_SYSTEEM_URL"] == "" ||
						env["SEINTJE_EVENTS_ZAAK_SYSTEEM_TYPES"] != "message.failed,nudge.ended" ||
						env["SEINTJE_EVENTS_ZAAK_SYSTEEM_SECRET_FILE"] != secretDir+"/events_zaaksysteem" {
						t.Errorf("events subscriber env: %v", env)
					}
				}
			case "sentinel":
				if env["REDIS_SENTINEL_ADDRS"] == "" || env["REDIS_SENTINEL_MASTER"] == "" || env["REDIS_URL"] != "" {
					t.Errorf("sentinel env: %v", env)
				}
			case "cluster":
				if !strings.Contains(env["REDIS_CLUSTER_ADDRS"], ",") || env["REDIS_URL"] != "" {
					t.Errorf("cluster env: %v", env)
				}
			}

			hpa := one(t, objs, "HorizontalPodAutoscaler")
			if str(hpa, "spec.scaleTargetRef.kind") != kind || str(hpa, "spec.scaleTargetRef.name") != str(w, "metadata.name") {
				t.Errorf("HPA targets %s/%s", str(hpa, "spec.scaleTargetRef.kind"), str(hpa, "spec.scaleTargetRef.name"))
			}
			if get(w, "spec.replicas") != nil {
				t.Error("the workload sets replicas while the HPA owns them")
			}
			one(t, objs, "PodDisruptionBudget")
			np := one(t, objs, "NetworkPolicy")
			if !slices.Contains(list(np, "spec.policyTypes"), any("Egress")) {
				t.Error("NetworkPolicy does not restrict egress")
			}
		})
	}
}

func TestHelmChartDefaultsExtras(t *testing.T) {
	objs := rendered(t, "single")
	sm := one(t, objs, "ServiceMonitor")
	eps := list(sm, "spec.endpoints")
	if len(eps) != 1 || str(eps[0], "path") != "/metrics" || str(eps[0], "port") != "http" {
		t.Errorf("ServiceMonitor endpoints: %v", eps)
	}
	cm := one(t, objs, "ConfigMap")
	data, _ := get(cm, "data").(map[string]any)
	if len(data) == 0 {
		t.Fatal("flows ConfigMap is empty")
	}
	w := one(t, objs, "StatefulSet")
	mounted := false
	for _, v := range list(w, "spec.template.spec.volumes") {
		mounted = mounted || str(v, "configMap.name") == str(cm, "metadata.name")
	}
	if !mounted {
		t.Error("the flows ConfigMap is not mounted")
	}
}
