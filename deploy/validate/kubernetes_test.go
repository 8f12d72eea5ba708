package validate

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

const kustomizeDir = "../kubernetes"

// The Secrets deploy/README.md tells the operator to create: the app's
// settings, and the Ingress's certificate.
var externalSecrets = []string{"licensedesk", "licensedesk-tls"}

func TestKubernetes_EveryRenderedObjectIsValid(t *testing.T) {
	objs, err := Render(filesys.MakeFsOnDisk(), kustomizeDir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.ID)
	}
	slices.Sort(ids)
	want := []string{
		"ConfigMap/licensedesk-config",
		"Deployment/licensedesk-serve", "Deployment/licensedesk-worker",
		"HorizontalPodAutoscaler/licensedesk-worker",
		"Ingress/licensedesk-serve", "Ingress/licensedesk-serve-links",
		"Job/licensedesk-migrate", "Job/licensedesk-search-attributes",
		"Namespace/licensedesk",
		"NetworkPolicy/licensedesk-jobs", "NetworkPolicy/licensedesk-serve", "NetworkPolicy/licensedesk-worker",
		"PodDisruptionBudget/licensedesk-serve", "PodDisruptionBudget/licensedesk-worker",
		"Service/licensedesk-serve", "Service/licensedesk-serve-admin",
	}
	if !slices.Equal(ids, want) {
		t.Errorf("rendered %v\nwant     %v", ids, want)
	}
	for _, err := range Check(objs, externalSecrets...) {
		t.Error(err)
	}
	// The kustomization's images: and namespace: reach every workload.
	for _, o := range objs {
		if d, ok := o.Obj.(*appsv1.Deployment); ok {
			if got := d.Spec.Template.Spec.Containers[0].Image; got != "registry.example.com/licensedesk:0.1.0" {
				t.Errorf("%s: image %q, want the one kustomization.yaml sets", o.ID, got)
			}
			if d.Namespace != "licensedesk" {
				t.Errorf("%s: namespace %q", o.ID, d.Namespace)
			}
		}
	}
}

// Each case breaks one manifest the way a hand edit could, in a copy, and
// the check must say so: a check that cannot fail proves nothing.
func TestKubernetes_BrokenManifestFails(t *testing.T) {
	cases := []struct {
		name, file, old, new, want string
	}{
		{"misspelled field", "worker-deployment.yaml",
			"  replicas: 3", "  replica: 3", `unknown field "spec.replica"`},
		{"field of the wrong type", "worker-deployment.yaml",
			"  replicas: 3", "  replicas: three", "cannot unmarshal string"},
		{"field at the wrong level", "serve-deployment.yaml",
			"      automountServiceAccountToken: false", "      automountServiceAccountToken: false\n      image: licensedesk", `unknown field "spec.template.spec.image"`},
		{"removed API version", "serve-pdb.yaml",
			"apiVersion: policy/v1", "apiVersion: policy/v1beta1", `no kind "PodDisruptionBudget" is registered for version "policy/v1beta1"`},
		{"misspelled kind", "serve-service.yaml",
			"kind: Service", "kind: Servce", `no kind "Servce" is registered`},
		{"a resource that is not there", "kustomization.yaml",
			"  - serve-pdb.yaml", "  - serve-pdb.yaml\n  - serve-networkpolicy.yaml", "serve-networkpolicy.yaml"},
		{"selector that misses its own pods", "serve-deployment.yaml",
			"        app.kubernetes.io/component: serve\n        app.kubernetes.io/part-of: licensedesk",
			"        app.kubernetes.io/component: server\n        app.kubernetes.io/part-of: licensedesk",
			"does not match the pod template's labels"},
		{"disruption budget over no pods", "worker-pdb.yaml",
			"      app.kubernetes.io/component: worker", "      app.kubernetes.io/component: workers", "selects no pod template"},
		{"root under the restricted Pod Security level", "migrate-job.yaml",
			"runAsNonRoot: true", "runAsNonRoot: false", `violates PodSecurity "restricted:latest"`},
		{"privilege escalation under restricted", "worker-deployment.yaml",
			"allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "allowPrivilegeEscalation != false"},
		{"probe on a port the container does not name", "worker-deployment.yaml",
			"            - name: http\n              containerPort: 9090", "            - name: metrics\n              containerPort: 9090",
			`readinessProbe port "http" is not a named port`},
		{"service target port nobody listens on", "serve-service.yaml",
			"targetPort: http", "targetPort: web", `targetPort "web" is not a named port`},
		{"ingress to a service that does not exist", "serve-ingress.yaml",
			"                name: licensedesk-serve", "                name: licensedesk-web", `Service "licensedesk-web" is not among the rendered objects`},
		{"unknown path type", "serve-ingress.yaml",
			"pathType: Prefix", "pathType: prefix", `pathType "prefix": supported values`},
		{"config key that does not exist", "search-attributes-job.yaml",
			"key: TEMPORAL_NAMESPACE", "key: TEMPORAL_NAMESPACES", `has no key "TEMPORAL_NAMESPACES"`},
		{"secret nobody creates", "serve-deployment.yaml",
			"                secretKeyRef:\n                  name: licensedesk\n                  key: DATABASE_URL", "                secretKeyRef:\n                  name: licensedesk-secrets\n                  key: DATABASE_URL", `Secret "licensedesk-secrets"`},
		{"autoscaler on a missing deployment", "worker-hpa.yaml",
			"    kind: Deployment\n    name: licensedesk-worker", "    kind: Deployment\n    name: licensedesk-workers", "scaleTargetRef Deployment/licensedesk-workers"},
		{"job that restarts for ever", "migrate-job.yaml",
			"restartPolicy: Never", "restartPolicy: Always", `restartPolicy "Always"`},
		{"request above its limit", "worker-deployment.yaml",
			"              memory: 512Mi", "              memory: 64Mi", "memory request 128Mi is above its limit 64Mi"},
		{"invalid label value", "configmap.yaml",
			"    app.kubernetes.io/part-of: licensedesk", "    app.kubernetes.io/part-of: licence desk", "metadata.labels: Invalid value"},
		{"invalid object name", "serve-pdb.yaml",
			"  name: licensedesk-serve", "  name: licensedesk_serve", "metadata.name: Invalid value"},
		{"a Deployment that takes the whole Secret", "worker-deployment.yaml",
			"          envFrom:\n            - configMapRef:\n                name: licensedesk-config", "          envFrom:\n            - configMapRef:\n                name: licensedesk-config\n            - secretRef:\n                name: licensedesk",
			`envFrom takes every key of Secret "licensedesk"`},
		{"network policy on a port the pods do not name", "networkpolicy.yaml",
			"        - port: admin", "        - port: metrics", `ingress port "metrics" is not a named port`},
		{"network policy over no pods", "networkpolicy.yaml",
			"      app.kubernetes.io/component: worker\n  policyTypes", "      app.kubernetes.io/component: workers\n  policyTypes", "selects no pod template"},
		{"volume mount of no volume", "worker-deployment.yaml",
			"            - name: tmp\n              mountPath: /tmp", "            - name: scratch\n              mountPath: /tmp", `volumeMount "scratch" names no volume`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := copyDir(t, kustomizeDir, "/k")
			path := "/k/" + tc.file
			data, err := fsys.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tc.old) {
				t.Fatalf("%s no longer contains %q: update this case", tc.file, tc.old)
			}
			broken := strings.Replace(string(data), tc.old, tc.new, 1)
			if err := fsys.WriteFile(path, []byte(broken)); err != nil {
				t.Fatal(err)
			}
			objs, err := Render(fsys, "/k")
			errs := Check(objs, externalSecrets...)
			if err != nil {
				errs = append(errs, err)
			}
			all := errors.Join(errs...)
			if all == nil {
				t.Fatalf("the broken copy passed; want an error containing %q", tc.want)
			}
			t.Log(all)
			if !strings.Contains(all.Error(), tc.want) {
				t.Fatalf("errors:\n%v\nwant one containing %q", all, tc.want)
			}
		})
	}
}

// copyDir copies the manifests into an in-memory file system at dst.
func copyDir(t *testing.T, src, dst string) filesys.FileSystem {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := fsys.WriteFile(dst+"/"+e.Name(), data); err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

// The security findings of 2026-12-07 that live in deploy/kubernetes:
// tokens kept out of access logs (L-9), the read class not given to
// everyone (M-3), serve's metrics and readiness off the public port (L-5),
// every long-running pod behind a NetworkPolicy (L-11).
func TestKubernetes_SecurityFindingsStayFixed(t *testing.T) {
	objs, err := Render(filesys.MakeFsOnDisk(), kustomizeDir)
	if err != nil {
		t.Fatal(err)
	}
	tokenRoutes := map[string]string{"/l": "", "/password": ""}
	var policies []*networkingv1.NetworkPolicy
	for _, o := range objs {
		switch v := o.Obj.(type) {
		case *networkingv1.Ingress:
			for _, r := range v.Spec.Rules {
				for _, p := range r.HTTP.Paths {
					if _, ok := tokenRoutes[p.Path]; ok {
						tokenRoutes[p.Path] = v.Annotations["nginx.ingress.kubernetes.io/enable-access-log"]
						if tokenRoutes[p.Path] == "" {
							tokenRoutes[p.Path] = o.ID + " logs it"
						}
					}
				}
			}
		case *corev1.ConfigMap:
			if strings.Contains(v.Data["SLACK_ALLOW_READ"], "*") || strings.Contains(v.Data["SLACK_ALLOW_ACT"], "*") {
				t.Errorf("%s lets everyone in the workspace use the bot", o.ID)
			}
		case *networkingv1.NetworkPolicy:
			policies = append(policies, v)
		}
	}
	for path, accessLog := range tokenRoutes {
		if accessLog != "false" {
			t.Errorf("%s carries tokens but is not routed with enable-access-log \"false\" (%q)", path, accessLog)
		}
	}
	for _, o := range objs {
		d, ok := o.Obj.(*appsv1.Deployment)
		if !ok {
			continue
		}
		covered := false
		for _, np := range policies {
			s, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			covered = covered || (err == nil && s.Matches(labels.Set(d.Spec.Template.Labels)))
		}
		if !covered {
			t.Errorf("%s: no NetworkPolicy selects its pods", o.ID)
		}
		if d.Name != "licensedesk-serve" {
			continue
		}
		ctr := d.Spec.Template.Spec.Containers[0]
		if ctr.ReadinessProbe.HTTPGet.Port.StrVal != "admin" {
			t.Errorf("serve's readiness is probed on %q, not the admin port", ctr.ReadinessProbe.HTTPGet.Port.StrVal)
		}
		if !slices.ContainsFunc(ctr.Env, func(e corev1.EnvVar) bool { return e.Name == "ADMIN_HTTP_ADDR" && e.Value != "" }) {
			t.Error("serve has no ADMIN_HTTP_ADDR: /metrics and /readyz stay on the public port")
		}
	}
}
