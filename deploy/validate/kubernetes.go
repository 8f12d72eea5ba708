// Package validate checks what deploy/ ships without a cluster or a Docker
// daemon: the kustomization renders, every object it renders is a valid
// object of a served Kubernetes API with the references between objects
// resolved, the compose file passes the compose specification's schema, and
// the Grafana dashboard asks only for metrics that exist.
//
// It is its own Go module so that kustomize, the Kubernetes API types, the
// compose loader and Prometheus never enter the application's go.mod.
package validate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// scheme holds the API versions a current cluster serves for the kinds a
// deployment of licensedesk can use. A kind or version missing here (a
// removed beta such as policy/v1beta1, or a typo in apiVersion) fails the
// check; add a group here when a manifest needs a new one.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		autoscalingv1.AddToScheme, autoscalingv2.AddToScheme,
		policyv1.AddToScheme, networkingv1.AddToScheme, rbacv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// strict decodes like an API server asked for fieldValidation=Strict:
// an unknown or duplicated field is an error, not silently dropped.
var strict = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
	kjson.SerializerOptions{Strict: true})

// clusterDefault is what a namespace without Pod Security labels gets on a
// cluster whose admission configuration is left at its defaults.
var clusterDefault = psaapi.Policy{
	Enforce: psaapi.LevelVersion{Level: psaapi.LevelPrivileged, Version: psaapi.LatestVersion()},
	Audit:   psaapi.LevelVersion{Level: psaapi.LevelPrivileged, Version: psaapi.LatestVersion()},
	Warn:    psaapi.LevelVersion{Level: psaapi.LevelPrivileged, Version: psaapi.LatestVersion()},
}

// clusterScoped are the kinds above that have no namespace.
var clusterScoped = map[string]bool{"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true}

// Object is one rendered manifest, decoded into its Go API type.
type Object struct {
	ID  string // Kind/name, as messages name it
	Obj runtime.Object
}

// Render builds the kustomization in dir the way `kubectl apply -k` does
// and decodes every resulting object strictly into its API type.
func Render(fsys filesys.FileSystem, dir string) ([]Object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var objs []Object
	var errs []error
	for _, r := range m.Resources() {
		id := r.GetKind() + "/" + r.GetName()
		data, err := r.MarshalJSON()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		obj, _, err := strict.Decode(data, nil, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		objs = append(objs, Object{ID: id, Obj: obj})
	}
	return objs, errors.Join(errs...)
}

// Check validates the objects one by one (names, labels, selectors, enum
// values, pod specs, the namespace's Pod Security level) and against each
// other (selectors that select something, ports and config keys that
// exist, autoscaler targets). externalSecrets are the Secrets the
// manifests use but leave to the operator to create.
func Check(objs []Object, externalSecrets ...string) []error {
	c := &checker{
		configMaps: map[string]map[string]bool{},
		secrets:    map[string]bool{},
		workloads:  map[string]*workload{},
		services:   map[string]*corev1.Service{},
		namespaces: map[string]*corev1.Namespace{},
	}
	for _, s := range externalSecrets {
		c.secrets[s] = true
	}
	for _, o := range objs {
		c.index(o)
	}
	for _, o := range objs {
		c.object(o)
	}
	return c.errs
}

type workload struct {
	kind     string
	selector *metav1.LabelSelector
	template *corev1.PodTemplateSpec
}

type checker struct {
	errs       []error
	configMaps map[string]map[string]bool // name -> keys
	secrets    map[string]bool
	workloads  map[string]*workload // Kind/name
	services   map[string]*corev1.Service
	namespaces map[string]*corev1.Namespace
}

func (c *checker) fail(id string, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", id, fmt.Sprintf(format, args...)))
}

func (c *checker) fieldErrs(id string, list field.ErrorList) {
	for _, e := range list {
		c.fail(id, "%s", e.Error())
	}
}

func (c *checker) index(o Object) {
	switch t := o.Obj.(type) {
	case *corev1.ConfigMap:
		keys := map[string]bool{}
		for k := range t.Data {
			keys[k] = true
		}
		for k := range t.BinaryData {
			keys[k] = true
		}
		c.configMaps[t.Name] = keys
	case *corev1.Secret:
		c.secrets[t.Name] = true
	case *corev1.Service:
		c.services[t.Name] = t
	case *corev1.Namespace:
		c.namespaces[t.Name] = t
	case *appsv1.Deployment:
		c.workloads[o.ID] = &workload{"Deployment", t.Spec.Selector, &t.Spec.Template}
	case *appsv1.StatefulSet:
		c.workloads[o.ID] = &workload{"StatefulSet", t.Spec.Selector, &t.Spec.Template}
	case *appsv1.DaemonSet:
		c.workloads[o.ID] = &workload{"DaemonSet", t.Spec.Selector, &t.Spec.Template}
	case *batchv1.Job:
		c.workloads[o.ID] = &workload{"Job", t.Spec.Selector, &t.Spec.Template}
	case *batchv1.CronJob:
		c.workloads[o.ID] = &workload{"CronJob", nil, &t.Spec.JobTemplate.Spec.Template}
	}
}

func (c *checker) object(o Object) {
	acc, ok := o.Obj.(metav1.Object)
	if !ok {
		c.fail(o.ID, "has no metadata")
		return
	}
	kind := o.Obj.GetObjectKind().GroupVersionKind().Kind
	// The name rules the API server applies to these kinds.
	nameFn := apivalidation.NameIsDNSSubdomain
	switch kind {
	case "Namespace":
		nameFn = apivalidation.NameIsDNSLabel
	case "Service":
		nameFn = apivalidation.NameIsDNS1035Label
	}
	c.fieldErrs(o.ID, apivalidation.ValidateObjectMetaAccessor(acc, !clusterScoped[kind], nameFn, field.NewPath("metadata")))

	switch t := o.Obj.(type) {
	case *corev1.Namespace:
		if _, errs := psaapi.PolicyToEvaluate(t.Labels, clusterDefault); len(errs) > 0 {
			c.fieldErrs(o.ID, errs)
		}
	case *corev1.ConfigMap:
		for k := range t.Data {
			for _, msg := range validation.IsConfigMapKey(k) {
				c.fail(o.ID, "data key %q: %s", k, msg)
			}
		}
	case *appsv1.Deployment:
		c.selectorOf(o.ID, t.Spec.Selector, t.Spec.Template.Labels, true)
		c.leastSecret(o.ID, &t.Spec.Template)
		if s := t.Spec.Strategy.Type; s != "" && s != appsv1.RollingUpdateDeploymentStrategyType && s != appsv1.RecreateDeploymentStrategyType {
			c.fail(o.ID, "spec.strategy.type %q: supported values are RollingUpdate, Recreate", s)
		}
		c.podTemplate(o.ID, acc.GetNamespace(), &t.Spec.Template, corev1.RestartPolicyAlways)
	case *appsv1.StatefulSet:
		c.selectorOf(o.ID, t.Spec.Selector, t.Spec.Template.Labels, true)
		c.podTemplate(o.ID, acc.GetNamespace(), &t.Spec.Template, corev1.RestartPolicyAlways)
	case *appsv1.DaemonSet:
		c.selectorOf(o.ID, t.Spec.Selector, t.Spec.Template.Labels, true)
		c.podTemplate(o.ID, acc.GetNamespace(), &t.Spec.Template, corev1.RestartPolicyAlways)
	case *batchv1.Job:
		// A Job's selector is generated; one written by hand must match.
		c.selectorOf(o.ID, t.Spec.Selector, t.Spec.Template.Labels, false)
		c.podTemplate(o.ID, acc.GetNamespace(), &t.Spec.Template, corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure)
	case *batchv1.CronJob:
		c.podTemplate(o.ID, acc.GetNamespace(), &t.Spec.JobTemplate.Spec.Template, corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure)
	case *corev1.Service:
		c.service(o.ID, t)
	case *networkingv1.Ingress:
		c.ingress(o.ID, t)
	case *autoscalingv2.HorizontalPodAutoscaler:
		c.hpa(o.ID, t)
	case *policyv1.PodDisruptionBudget:
		c.pdb(o.ID, t)
	case *networkingv1.NetworkPolicy:
		c.networkPolicy(o.ID, t)
	}
}

// leastSecret refuses a long-running pod that takes every key of a Secret
// (envFrom): it then holds credentials it never uses, for anyone who gets
// into it. Each key it needs is named (secretKeyRef).
func (c *checker) leastSecret(id string, t *corev1.PodTemplateSpec) {
	for _, ctr := range t.Spec.Containers {
		for _, e := range ctr.EnvFrom {
			if e.SecretRef != nil {
				c.fail(id+" container "+ctr.Name, "envFrom takes every key of Secret %q: name the keys it uses (env valueFrom secretKeyRef)", e.SecretRef.Name)
			}
		}
	}
}

// networkPolicy checks a policy selects pods of the rendered workloads, and
// that the ports its rules name by name are named ports of those pods.
func (c *checker) networkPolicy(id string, np *networkingv1.NetworkPolicy) {
	sel := np.Spec.PodSelector
	c.fieldErrs(id, metav1validation.ValidateLabelSelector(&sel, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "podSelector")))
	s, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil {
		c.fail(id, "spec.podSelector: %v", err)
		return
	}
	selected := c.selects(s)
	if len(selected) == 0 {
		c.fail(id, "spec.podSelector %s selects no pod template among the rendered objects", s)
	}
	for _, pt := range np.Spec.PolicyTypes {
		if pt != networkingv1.PolicyTypeIngress && pt != networkingv1.PolicyTypeEgress {
			c.fail(id, "spec.policyTypes %q: supported values are Ingress, Egress", pt)
		}
	}
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port == nil || p.Port.Type != intstr.String {
				continue
			}
			for _, w := range selected {
				if !hasNamedPort(w.template, p.Port.StrVal) {
					c.fail(id, "ingress port %q is not a named port of the pods it selects", p.Port.StrVal)
				}
			}
		}
	}
}

// selectorOf checks a workload's selector is valid and selects its own
// pods (the API server refuses a Deployment whose selector does not).
func (c *checker) selectorOf(id string, sel *metav1.LabelSelector, podLabels map[string]string, required bool) {
	if sel == nil {
		if required {
			c.fail(id, "spec.selector: required")
		}
		return
	}
	c.fieldErrs(id, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector")))
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		c.fail(id, "spec.selector: %v", err)
		return
	}
	if s.Empty() {
		c.fail(id, "spec.selector: empty selector selects every pod in the namespace")
	}
	if !s.Matches(labels.Set(podLabels)) {
		c.fail(id, "spec.selector %s does not match the pod template's labels %v", s, podLabels)
	}
}

// selects returns the workloads whose pod templates the selector matches.
func (c *checker) selects(sel labels.Selector) []*workload {
	var out []*workload
	for _, w := range c.workloads {
		if sel.Matches(labels.Set(w.template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

var protocols = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}

func (c *checker) podTemplate(id, namespace string, t *corev1.PodTemplateSpec, restart ...corev1.RestartPolicy) {
	c.fieldErrs(id, metav1validation.ValidateLabels(t.Labels, field.NewPath("spec", "template", "metadata", "labels")))
	c.fieldErrs(id, apivalidation.ValidateAnnotations(t.Annotations, field.NewPath("spec", "template", "metadata", "annotations")))
	spec := &t.Spec
	rp := spec.RestartPolicy
	if rp == "" {
		rp = corev1.RestartPolicyAlways // the API server's default
	}
	if !slices.Contains(restart, rp) {
		c.fail(id, "spec.template.spec.restartPolicy %q: supported values here are %v", rp, restart)
	}
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			c.fail(id, "volume %q: %s", v.Name, msg)
		}
		if volumes[v.Name] {
			c.fail(id, "volume %q defined twice", v.Name)
		}
		volumes[v.Name] = true
		if v.ConfigMap != nil {
			c.configMapRef(id, v.ConfigMap.Name, "", v.ConfigMap.Optional)
		}
		if v.Secret != nil {
			c.secretRef(id, v.Secret.SecretName, v.Secret.Optional)
		}
	}
	if len(spec.Containers) == 0 {
		c.fail(id, "spec.template.spec.containers: at least one container is required")
	}
	names := map[string]bool{}
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for _, ctr := range all {
		c.container(id, ctr, names, volumes)
	}

	// The namespace's enforced Pod Security level refuses pods that break
	// it: the Deployment applies, but its ReplicaSet never gets a pod.
	ns, ok := c.namespaces[namespace]
	if !ok {
		return
	}
	pol, errs := psaapi.PolicyToEvaluate(ns.Labels, clusterDefault)
	if len(errs) > 0 {
		return // reported on the Namespace
	}
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		c.fail(id, "pod security: %v", err)
		return
	}
	agg := policy.AggregateCheckResults(eval.EvaluatePod(pol.Enforce, &t.ObjectMeta, spec))
	if !agg.Allowed {
		c.fail(id, "violates PodSecurity %q of namespace %s: %s: %s", pol.Enforce.String(), namespace, agg.ForbiddenReason(), agg.ForbiddenDetail())
	}
}

func (c *checker) container(id string, ctr corev1.Container, names, volumes map[string]bool) {
	cid := id + " container " + ctr.Name
	for _, msg := range validation.IsDNS1123Label(ctr.Name) {
		c.fail(cid, "name: %s", msg)
	}
	if names[ctr.Name] {
		c.fail(cid, "container name used twice")
	}
	names[ctr.Name] = true
	if strings.TrimSpace(ctr.Image) == "" {
		c.fail(cid, "image: required")
	}
	switch ctr.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		c.fail(cid, "imagePullPolicy %q: supported values are Always, IfNotPresent, Never", ctr.ImagePullPolicy)
	}
	ports := map[string]bool{}
	for _, p := range ctr.Ports {
		for _, msg := range validation.IsValidPortNum(int(p.ContainerPort)) {
			c.fail(cid, "containerPort %d: %s", p.ContainerPort, msg)
		}
		if p.Name != "" {
			for _, msg := range validation.IsValidPortName(p.Name) {
				c.fail(cid, "port name %q: %s", p.Name, msg)
			}
			if ports[p.Name] {
				c.fail(cid, "port name %q used twice", p.Name)
			}
			ports[p.Name] = true
		}
		if p.Protocol != "" && !slices.Contains(protocols, p.Protocol) {
			c.fail(cid, "port protocol %q: supported values are %v", p.Protocol, protocols)
		}
	}
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
	}{{"readinessProbe", ctr.ReadinessProbe}, {"livenessProbe", ctr.LivenessProbe}, {"startupProbe", ctr.StartupProbe}} {
		if pr.probe == nil {
			continue
		}
		if h := pr.probe.HTTPGet; h != nil {
			c.probePort(cid, pr.name, h.Port, ports)
			if h.Path != "" && !strings.HasPrefix(h.Path, "/") {
				c.fail(cid, "%s path %q must start with /", pr.name, h.Path)
			}
		}
		if s := pr.probe.TCPSocket; s != nil {
			c.probePort(cid, pr.name, s.Port, ports)
		}
	}
	for _, e := range ctr.Env {
		for _, msg := range validation.IsEnvVarName(e.Name) {
			c.fail(cid, "env %q: %s", e.Name, msg)
		}
		if e.ValueFrom == nil {
			continue
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			c.configMapRef(cid, r.Name, r.Key, r.Optional)
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			c.secretRef(cid, r.Name, r.Optional)
		}
	}
	for _, e := range ctr.EnvFrom {
		if r := e.ConfigMapRef; r != nil {
			c.configMapRef(cid, r.Name, "", r.Optional)
		}
		if r := e.SecretRef; r != nil {
			c.secretRef(cid, r.Name, r.Optional)
		}
	}
	for _, m := range ctr.VolumeMounts {
		if !volumes[m.Name] {
			c.fail(cid, "volumeMount %q names no volume of the pod", m.Name)
		}
		if !strings.HasPrefix(m.MountPath, "/") {
			c.fail(cid, "volumeMount %q: mountPath %q must be absolute", m.Name, m.MountPath)
		}
	}
	// The API server refuses a request above its limit.
	for res, req := range ctr.Resources.Requests {
		if lim, ok := ctr.Resources.Limits[res]; ok && req.Cmp(lim) > 0 {
			c.fail(cid, "resources: %s request %s is above its limit %s", res, req.String(), lim.String())
		}
	}
}

func (c *checker) probePort(cid, probe string, port intstr.IntOrString, named map[string]bool) {
	if port.Type == intstr.String {
		if !named[port.StrVal] {
			c.fail(cid, "%s port %q is not a named port of the container", probe, port.StrVal)
		}
		return
	}
	for _, msg := range validation.IsValidPortNum(port.IntValue()) {
		c.fail(cid, "%s port %d: %s", probe, port.IntValue(), msg)
	}
}

func (c *checker) configMapRef(id, name, key string, optional *bool) {
	if optional != nil && *optional {
		return
	}
	keys, ok := c.configMaps[name]
	if !ok {
		c.fail(id, "ConfigMap %q is not among the rendered objects", name)
		return
	}
	if key != "" && !keys[key] {
		c.fail(id, "ConfigMap %q has no key %q", name, key)
	}
}

func (c *checker) secretRef(id, name string, optional *bool) {
	if optional != nil && *optional {
		return
	}
	if !c.secrets[name] {
		c.fail(id, "Secret %q is neither rendered nor one the operator is told to create", name)
	}
}

func (c *checker) service(id string, s *corev1.Service) {
	switch s.Spec.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
	default:
		c.fail(id, "spec.type %q: supported values are ClusterIP, NodePort, LoadBalancer, ExternalName", s.Spec.Type)
	}
	if len(s.Spec.Ports) == 0 && s.Spec.Type != corev1.ServiceTypeExternalName {
		c.fail(id, "spec.ports: required")
	}
	if len(s.Spec.Selector) == 0 {
		return // endpoints managed elsewhere
	}
	c.fieldErrs(id, metav1validation.ValidateLabels(s.Spec.Selector, field.NewPath("spec", "selector")))
	pods := c.selects(labels.SelectorFromSet(s.Spec.Selector))
	if len(pods) == 0 {
		c.fail(id, "spec.selector %v selects no pod template among the rendered objects", s.Spec.Selector)
		return
	}
	names := map[string]bool{}
	for _, p := range s.Spec.Ports {
		if names[p.Name] {
			c.fail(id, "port name %q used twice", p.Name)
		}
		names[p.Name] = true
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			c.fail(id, "port %d: %s", p.Port, msg)
		}
		if p.Protocol != "" && !slices.Contains(protocols, p.Protocol) {
			c.fail(id, "port protocol %q: supported values are %v", p.Protocol, protocols)
		}
		if p.TargetPort.Type != intstr.String {
			continue
		}
		for _, w := range pods {
			if !hasNamedPort(w.template, p.TargetPort.StrVal) {
				c.fail(id, "targetPort %q is not a named port of the %s pods it selects", p.TargetPort.StrVal, w.kind)
			}
		}
	}
}

func hasNamedPort(t *corev1.PodTemplateSpec, name string) bool {
	for _, ctr := range t.Spec.Containers {
		for _, p := range ctr.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func (c *checker) ingress(id string, ing *networkingv1.Ingress) {
	backend := func(where string, b networkingv1.IngressBackend) {
		if b.Service == nil {
			return
		}
		svc, ok := c.services[b.Service.Name]
		if !ok {
			c.fail(id, "%s: Service %q is not among the rendered objects", where, b.Service.Name)
			return
		}
		found := false
		for _, p := range svc.Spec.Ports {
			if (b.Service.Port.Name != "" && p.Name == b.Service.Port.Name) ||
				(b.Service.Port.Number != 0 && p.Port == b.Service.Port.Number) {
				found = true
			}
		}
		if !found {
			c.fail(id, "%s: Service %q has no port %s%d", where, b.Service.Name, b.Service.Port.Name, b.Service.Port.Number)
		}
	}
	if ing.Spec.DefaultBackend != nil {
		backend("spec.defaultBackend", *ing.Spec.DefaultBackend)
	}
	for i, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for j, p := range r.HTTP.Paths {
			where := fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j)
			if !strings.HasPrefix(p.Path, "/") {
				c.fail(id, "%s.path %q must start with /", where, p.Path)
			}
			switch pt := p.PathType; {
			case pt == nil:
				c.fail(id, "%s.pathType: required", where)
			case *pt != networkingv1.PathTypeExact && *pt != networkingv1.PathTypePrefix && *pt != networkingv1.PathTypeImplementationSpecific:
				c.fail(id, "%s.pathType %q: supported values are Exact, Prefix, ImplementationSpecific", where, *pt)
			}
			backend(where, p.Backend)
		}
	}
}

func (c *checker) hpa(id string, h *autoscalingv2.HorizontalPodAutoscaler) {
	ref := h.Spec.ScaleTargetRef
	w, ok := c.workloads[ref.Kind+"/"+ref.Name]
	if !ok {
		c.fail(id, "scaleTargetRef %s/%s is not among the rendered objects", ref.Kind, ref.Name)
	}
	if h.Spec.MinReplicas != nil && *h.Spec.MinReplicas > h.Spec.MaxReplicas {
		c.fail(id, "minReplicas %d is above maxReplicas %d", *h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	if h.Spec.MaxReplicas < 1 {
		c.fail(id, "maxReplicas must be at least 1")
	}
	for _, m := range h.Spec.Metrics {
		switch m.Type {
		case autoscalingv2.ResourceMetricSourceType:
			if m.Resource == nil {
				c.fail(id, "metric of type Resource without resource")
				continue
			}
			// Utilization is a share of the containers' requests: without
			// one the autoscaler cannot compute it and never scales.
			if m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && w != nil {
				for _, ctr := range w.template.Spec.Containers {
					if _, ok := ctr.Resources.Requests[m.Resource.Name]; !ok {
						c.fail(id, "scales on %s utilization but container %s of %s requests no %s", m.Resource.Name, ctr.Name, ref.Name, m.Resource.Name)
					}
				}
			}
		case autoscalingv2.PodsMetricSourceType, autoscalingv2.ObjectMetricSourceType,
			autoscalingv2.ExternalMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
		default:
			c.fail(id, "metric type %q is not one the autoscaler knows", m.Type)
		}
	}
}

func (c *checker) pdb(id string, p *policyv1.PodDisruptionBudget) {
	if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
		c.fail(id, "exactly one of minAvailable and maxUnavailable must be set")
	}
	if p.Spec.Selector == nil {
		c.fail(id, "spec.selector: required")
		return
	}
	c.fieldErrs(id, metav1validation.ValidateLabelSelector(p.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector")))
	s, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
	if err != nil {
		c.fail(id, "spec.selector: %v", err)
		return
	}
	if len(c.selects(s)) == 0 {
		c.fail(id, "spec.selector %s selects no pod template among the rendered objects", s)
	}
}
