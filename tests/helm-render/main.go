// helm-render renders a Helm chart the way `helm template` does, for the chart tests where helm itself cannot be
// installed (Helm 3/4 need a newer Go than Debian's): Go's text/template with the Sprig functions Helm uses (Debian's
// golang-github-masterminds-sprig-dev) plus Helm's own include, tpl, required, toYaml, fromYaml, toJson, lookup;
// values.yaml deep-merged with each -f file (later files win, null deletes a key), .Release, .Chart, .Capabilities,
// .Template, missing keys rendering empty. Every rendered document is parsed as YAML (gopkg.in/yaml.v3) and printed
// as one JSON array: [{"template": "templates/x.yaml", "object": {...}}, ...]. Any template or YAML error exits 1.
//
// Usage: helm-render [-name RELEASE] [-namespace NS] [-kube-version 1.30] CHART_DIR [-f values.yaml ...]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig" // GOPATH mode: Debian installs sprig v3 here
	"gopkg.in/yaml.v3"
)

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions apiVersions
}

type kubeVersion struct{ Version, Major, Minor, GitVersion string }

type apiVersions []string

// Has reports whether the fake cluster serves a group/version (or group/version/Kind); this renderer's cluster
// serves the built-in groups and the Prometheus operator's monitoring.coreos.com/v1.
func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v || strings.HasPrefix(v, x+"/") {
			return true
		}
	}
	return false
}

type document struct {
	Template string      `json:"template"`
	Object   interface{} `json:"object"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "helm-render: "+format+"\n", args...)
	os.Exit(1)
}

func readYAMLMap(path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		fail("%s: %v", path, err)
	}
	if out == nil {
		out = map[string]interface{}{}
	}
	return viaJSON(out).(map[string]interface{})
}

// viaJSON gives a value the types Helm's values have: Helm reads YAML through sigs.k8s.io/yaml (YAML to JSON, then
// encoding/json), so every number is a float64 ({{ 33554432 }} prints 3.3554432e+07 in Helm too; templates must say
// int64). Rendering with yaml.v3's ints would hide that.
func viaJSON(v interface{}) interface{} {
	b, err := json.Marshal(v)
	if err != nil {
		fail("%v", err)
	}
	var out interface{}
	if err := json.Unmarshal(b, &out); err != nil {
		fail("%v", err)
	}
	return out
}

// merge copies src over dst, recursing into maps; a null in src deletes the key (Helm's coalescing rule).
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// toYAML writes as Helm's toYaml does (sigs.k8s.io/yaml: through JSON, so a float64 that holds an integer is written
// as one, and map keys are sorted).
func toYAML(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var plain interface{}
	if err := yaml.Unmarshal(b, &plain); err != nil {
		return ""
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(plain); err != nil {
		return ""
	}
	_ = enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

func main() {
	release, namespace, kube := "gatehouse", "default", "1.30"
	var chart string
	var valueFiles []string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-name", "-namespace", "-kube-version", "-f":
			if i+1 >= len(args) {
				fail("%s needs a value", args[i])
			}
			v := args[i+1]
			switch args[i] {
			case "-name":
				release = v
			case "-namespace":
				namespace = v
			case "-kube-version":
				kube = v
			case "-f":
				valueFiles = append(valueFiles, v)
			}
			i++
		default:
			if chart != "" {
				fail("unexpected argument %q", args[i])
			}
			chart = args[i]
		}
	}
	if chart == "" {
		fail("usage: helm-render [-name R] [-namespace NS] [-kube-version 1.30] CHART_DIR [-f values.yaml ...]")
	}

	meta := readYAMLMap(filepath.Join(chart, "Chart.yaml"))
	for _, key := range []string{"apiVersion", "name", "version"} {
		if _, ok := meta[key]; !ok {
			fail("Chart.yaml: %s is required", key)
		}
	}
	values := readYAMLMap(filepath.Join(chart, "values.yaml"))
	for _, f := range valueFiles {
		values = merge(values, readYAMLMap(f))
	}
	chartValues := map[string]interface{}{
		"Name": meta["name"], "Version": meta["version"], "AppVersion": meta["appVersion"], "Description": meta["description"],
	}
	minor := kube[strings.Index(kube, ".")+1:]
	top := map[string]interface{}{
		"Values":  values,
		"Chart":   chartValues,
		"Release": map[string]interface{}{"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
		"Capabilities": capabilities{
			KubeVersion: kubeVersion{Version: "v" + kube + ".0", GitVersion: "v" + kube + ".0", Major: "1", Minor: minor},
			APIVersions: apiVersions{"v1", "apps/v1", "policy/v1", "batch/v1", "monitoring.coreos.com/v1"},
		},
	}

	root := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = toYAML
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["required"] = func(message string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return v, errors.New(message)
		}
		return v, nil
	}
	funcs["lookup"] = func(string, string, string, string) map[string]interface{} { return map[string]interface{}{} }
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	root.Funcs(funcs)

	var names []string
	err := filepath.Walk(filepath.Join(chart, "templates"), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chart, path)
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		name := fmt.Sprint(meta["name"]) + "/" + filepath.ToSlash(rel)
		if _, err := root.New(name).Parse(string(text)); err != nil {
			return err
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		fail("%v", err)
	}
	sort.Strings(names)

	docs := []document{}
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") || !(strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")) {
			continue
		}
		top["Template"] = map[string]interface{}{"Name": name, "BasePath": fmt.Sprint(meta["name"]) + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, top); err != nil {
			fail("%v", err)
		}
		out := strings.ReplaceAll(buf.String(), "<no value>", "")
		rel := strings.TrimPrefix(name, fmt.Sprint(meta["name"])+"/")
		dec := yaml.NewDecoder(strings.NewReader(out))
		for n := 0; ; n++ {
			var obj interface{}
			if err := dec.Decode(&obj); err != nil {
				if err.Error() == "EOF" {
					break
				}
				fail("%s: document %d is not valid YAML: %v\n%s", rel, n, err, out)
			}
			if obj == nil {
				continue
			}
			docs = append(docs, document{Template: rel, Object: obj})
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(docs); err != nil {
		fail("%v", err)
	}
}
