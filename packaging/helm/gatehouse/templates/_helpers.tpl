{{/* The release's full name, at most 63 characters. */}}
{{- define "gatehouse.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gatehouse.labels" -}}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "gatehouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.name -}}{{ .Values.serviceAccount.name }}{{- else if eq .Values.mode "sidecar" -}}{{ .Values.sidecar.example.name }}{{- else -}}{{ include "gatehouse.fullname" . }}{{- end -}}
{{- end -}}

{{- define "gatehouse.validate" -}}
{{- if not (has .Values.mode (list "sidecar" "deployment" "daemonset")) -}}
{{- fail (printf "mode must be sidecar, deployment or daemonset, not %q" .Values.mode) -}}
{{- end -}}
{{- if and .Values.daemonset.unixSocket.enabled (ne .Values.mode "daemonset") -}}
{{- fail "daemonset.unixSocket.enabled needs mode: daemonset" -}}
{{- end -}}
{{- if and (eq .Values.mode "sidecar") .Values.sidecar.native (semverCompare "<1.29.0-0" .Capabilities.KubeVersion.Version) -}}
{{- fail (printf "sidecar.native needs Kubernetes 1.29 or later (init containers with restartPolicy: Always); this cluster is %s: set sidecar.native=false for a classic sidecar" .Capabilities.KubeVersion.Version) -}}
{{- end -}}
{{- with .Values.cache.shared -}}
{{- if .enabled -}}
{{- if not $.Values.cache.enabled -}}
{{- fail "cache.shared.enabled needs cache.enabled" -}}
{{- end -}}
{{- if not .keySecret -}}
{{- fail "cache.shared.enabled needs cache.shared.keySecret: a Secret with the key material (base64 of at least 32 bytes), the same for every replica" -}}
{{- end -}}
{{- if and .username (not .passwordSecret) -}}
{{- fail "cache.shared.username needs cache.shared.passwordSecret" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- include "gatehouse.memoryCheck" . -}}
{{- end -}}

{{/*
The sizing rule (docs/kubernetes.md#memory): limits.memory >= 96 MiB + 1.5 x (cache.maxBytes + 1 KiB x cache.maxEntries).
Quantities in Ki, Mi, Gi, k, M, G or plain bytes are checked; others (and config.override) are not.
*/}}
{{- define "gatehouse.memoryCheck" -}}
{{- $limit := "" -}}
{{- with .Values.resources -}}{{- with .limits -}}{{- $limit = toString (.memory | default "") -}}{{- end -}}{{- end -}}
{{- if and .Values.cache.enabled (not .Values.config.override) $limit -}}
{{- $needKi := add (mul 96 1024) (div (mul 3 (add (div (int64 .Values.cache.maxBytes) 1024) (int64 .Values.cache.maxEntries))) 2) -}}
{{- $number := regexFind "^[0-9]+" $limit -}}
{{- $unit := trimPrefix $number $limit -}}
{{- $haveKi := -1 -}}
{{- if $number -}}
{{- $n := int64 $number -}}
{{- if eq $unit "Ki" -}}{{- $haveKi = $n -}}
{{- else if eq $unit "Mi" -}}{{- $haveKi = mul $n 1024 -}}
{{- else if eq $unit "Gi" -}}{{- $haveKi = mul $n 1048576 -}}
{{- else if eq $unit "k" -}}{{- $haveKi = div (mul $n 1000) 1024 -}}
{{- else if eq $unit "M" -}}{{- $haveKi = div (mul $n 1000000) 1024 -}}
{{- else if eq $unit "G" -}}{{- $haveKi = div (mul $n 1000000000) 1024 -}}
{{- else if eq $unit "" -}}{{- $haveKi = div $n 1024 -}}
{{- end -}}
{{- end -}}
{{- if and (ge (int64 $haveKi) 0) (lt (int64 $haveKi) (int64 $needKi)) -}}
{{- fail (printf "resources.limits.memory %s is below what cache.maxBytes=%d and cache.maxEntries=%d need: %dMi (96 MiB + 1.5 x (maxBytes + 1 KiB x maxEntries), docs/kubernetes.md#memory); raise the limit or lower the bounds" $limit (int64 .Values.cache.maxBytes) (int64 .Values.cache.maxEntries) (div (add $needKi 1023) 1024)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when auto_auth is written: autoAuth.enabled, or by default in sidecar mode only. */}}
{{- define "gatehouse.autoAuthEnabled" -}}
{{- $on := .Values.autoAuth.enabled -}}
{{- if kindIs "invalid" $on -}}{{- $on = eq .Values.mode "sidecar" -}}{{- end -}}
{{- if $on -}}true{{- end -}}
{{- end -}}

{{/* use_auto_auth_token: the value, or the mode's default. */}}
{{- define "gatehouse.useAutoAuthToken" -}}
{{- $v := toString .Values.apiProxy.useAutoAuthToken -}}
{{- if eq $v "" -}}{{- if eq .Values.mode "sidecar" -}}"force"{{- else -}}true{{- end -}}
{{- else if has $v (list "true" "false") -}}{{ $v }}
{{- else -}}{{ $v | quote }}
{{- end -}}
{{- end -}}

{{- define "gatehouse.socketPath" -}}/run/gatehouse/{{ .Values.daemonset.unixSocket.socketName }}{{- end -}}

{{/* An HCL value: strings quoted (JSON escaping is HCL's), numbers and booleans as they are, maps as HCL objects. */}}
{{- define "gatehouse.hclValue" -}}
{{- if kindIs "string" . -}}{{ toJson . }}
{{- else if kindIs "float64" . -}}{{- if eq (float64 (int64 .)) . -}}{{ int64 . }}{{- else -}}{{ . }}{{- end -}}
{{- else if kindIs "map" . -}}{ {{- range $k, $v := . }} {{ $k }} = {{ include "gatehouse.hclValue" $v }}{{ end }} }
{{- else if kindIs "slice" . -}}[{{- range $i, $v := . }}{{ if $i }}, {{ end }}{{ include "gatehouse.hclValue" $v }}{{ end }}]
{{- else -}}{{ toJson . }}
{{- end -}}
{{- end -}}

{{/* The Gatehouse config (HCL) the ConfigMap holds. */}}
{{- define "gatehouse.hcl" -}}
{{- if .Values.config.override -}}
{{ tpl .Values.config.override . }}
{{- else -}}
log_level  = {{ .Values.logLevel | quote }}
log_format = {{ .Values.logFormat | quote }}

vault {
  address = {{ .Values.vault.address | quote }}
{{- if .Values.vault.caSecret }}
  ca_cert = {{ printf "/var/run/secrets/gatehouse/vault-ca/%s" .Values.vault.caKey | quote }}
{{- end }}
}
{{- if include "gatehouse.autoAuthEnabled" . }}

auto_auth {
  method {{ .Values.autoAuth.method | quote }} {
    mount_path = {{ .Values.autoAuth.mountPath | default (printf "auth/%s" .Values.autoAuth.method) | quote }}
    config = {
{{- range $k, $v := index .Values.autoAuth.config .Values.autoAuth.method | default dict }}
      {{ $k }} = {{ include "gatehouse.hclValue" $v }}
{{- end }}
    }
  }
}

api_proxy {
  use_auto_auth_token = {{ include "gatehouse.useAutoAuthToken" . }}
}
{{- end }}
{{- if .Values.cache.enabled }}

cache {
  max_bytes   = {{ int64 .Values.cache.maxBytes }}
  max_entries = {{ int64 .Values.cache.maxEntries }}
{{- with .Values.cache.shared }}
{{- if .enabled }}

  # One auto-auth identity for every replica (docs/lease-cache.md#shared-cache-redis).
  shared "redis" {
    address     = {{ .address | quote }}
    key_env_var = "GATEHOUSE_SHARED_KEY"
{{- if .username }}
    username    = {{ .username | quote }}
{{- end }}
{{- if .passwordSecret }}
    password_file = "/var/run/secrets/gatehouse/redis/{{ .passwordSecretKey }}"
{{- end }}
{{- if .tls }}
    tls_enable  = true
{{- end }}
  }
{{- end }}
{{- end }}
}
{{- end }}

# The app's listener.
listener "tcp" {
  address     = "{{ if eq .Values.mode "sidecar" }}127.0.0.1{{ else }}0.0.0.0{{ end }}:{{ int64 .Values.listener.port }}"
  tls_disable = true
}
{{- if .Values.daemonset.unixSocket.enabled }}

# The node-local socket, in the hostPath directory app pods mount.
listener "unix" {
  address     = {{ include "gatehouse.socketPath" . | quote }}
  tls_disable = true
  socket_mode = {{ .Values.daemonset.unixSocket.socketMode | quote }}
}
{{- end }}

# Probes and Prometheus: health and metrics only, never proxied.
listener "tcp" {
  address     = "0.0.0.0:{{ int64 .Values.listener.metricsPort }}"
  tls_disable = true
  role        = "metrics_only"
}

telemetry {
  disable_hostname          = true
  prometheus_retention_time = {{ .Values.telemetry.prometheusRetentionTime | quote }}
}
{{- with .Values.config.extra }}

{{ tpl . $ }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "gatehouse.probe" -}}
httpGet:
  path: {{ .probe.path }}
  port: metrics
periodSeconds: {{ int64 .probe.periodSeconds }}
failureThreshold: {{ int64 .probe.failureThreshold }}
{{- end -}}

{{/* The gatehouse container; .native adds restartPolicy: Always (a native sidecar in initContainers). */}}
{{- define "gatehouse.container" -}}
{{- $ := .root -}}
- name: gatehouse
  image: "{{ $.Values.image.repository }}:{{ $.Values.image.tag | default $.Chart.AppVersion }}"
  imagePullPolicy: {{ $.Values.image.pullPolicy }}
{{- if .native }}
  restartPolicy: Always
{{- end }}
  args: ["proxy", "-config=/etc/gatehouse/gatehouse.hcl"]
  ports:
    - name: http
      containerPort: {{ int64 $.Values.listener.port }}
    - name: metrics
      containerPort: {{ int64 $.Values.listener.metricsPort }}
{{- if or $.Values.extraEnv $.Values.cache.shared.enabled }}
  env:
{{- if $.Values.cache.shared.enabled }}
    - name: GATEHOUSE_SHARED_KEY
      valueFrom:
        secretKeyRef:
          name: {{ $.Values.cache.shared.keySecret }}
          key: {{ $.Values.cache.shared.keySecretKey }}
{{- end }}
{{- with $.Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end }}
  readinessProbe:
    {{- include "gatehouse.probe" (dict "probe" $.Values.probes.readiness) | nindent 4 }}
  livenessProbe:
    {{- include "gatehouse.probe" (dict "probe" $.Values.probes.liveness) | nindent 4 }}
  startupProbe:
    {{- include "gatehouse.probe" (dict "probe" $.Values.probes.startup) | nindent 4 }}
  resources:
    {{- toYaml $.Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml $.Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: gatehouse-config
      mountPath: /etc/gatehouse
      readOnly: true
    - name: gatehouse-tmp
      mountPath: /tmp
{{- if $.Values.vault.caSecret }}
    - name: gatehouse-vault-ca
      mountPath: /var/run/secrets/gatehouse/vault-ca
      readOnly: true
{{- end }}
{{- if $.Values.autoAuth.secretRef }}
    - name: gatehouse-auth
      mountPath: /var/run/secrets/gatehouse/auth
      readOnly: true
{{- end }}
{{- if $.Values.daemonset.unixSocket.enabled }}
    - name: gatehouse-socket
      mountPath: /run/gatehouse
{{- end }}
{{- if and $.Values.cache.shared.enabled $.Values.cache.shared.passwordSecret }}
    - name: gatehouse-redis
      mountPath: /var/run/secrets/gatehouse/redis
      readOnly: true
{{- end }}
{{- with $.Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{- define "gatehouse.volumes" -}}
- name: gatehouse-config
  configMap:
    name: {{ include "gatehouse.fullname" . }}-config
- name: gatehouse-tmp
  emptyDir:
    medium: Memory
    sizeLimit: 16Mi
{{- if .Values.vault.caSecret }}
- name: gatehouse-vault-ca
  secret:
    secretName: {{ .Values.vault.caSecret }}
{{- end }}
{{- if .Values.autoAuth.secretRef }}
- name: gatehouse-auth
  secret:
    secretName: {{ .Values.autoAuth.secretRef }}
    defaultMode: 0440
{{- end }}
{{- if .Values.daemonset.unixSocket.enabled }}
- name: gatehouse-socket
  hostPath:
    path: {{ .Values.daemonset.unixSocket.hostPath }}
    type: DirectoryOrCreate
{{- end }}
{{- if and .Values.cache.shared.enabled .Values.cache.shared.passwordSecret }}
- name: gatehouse-redis
  secret:
    secretName: {{ .Values.cache.shared.passwordSecret }}
    defaultMode: 0440
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The pod spec of the shared modes (Deployment, DaemonSet). */}}
{{- define "gatehouse.sharedPod" -}}
metadata:
  labels:
    {{- include "gatehouse.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "gatehouse.hcl" . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "gatehouse.serviceAccountName" . }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  {{- if and .Values.daemonset.unixSocket.enabled .Values.daemonset.unixSocket.chownImage }}
  initContainers:
    # The kubelet creates a missing hostPath directory as root: hand it to the Gatehouse user, nothing more.
    - name: socket-dir
      image: {{ .Values.daemonset.unixSocket.chownImage }}
      command: ["chown", "{{ int64 .Values.podSecurityContext.runAsUser }}:{{ int64 .Values.podSecurityContext.runAsGroup }}", "/run/gatehouse"]
      securityContext:
        runAsUser: 0
        runAsNonRoot: false
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
          add: ["CHOWN", "FOWNER"]
      volumeMounts:
        - name: gatehouse-socket
          mountPath: /run/gatehouse
  {{- end }}
  containers:
    {{- include "gatehouse.container" (dict "root" . "native" false) | nindent 4 }}
  volumes:
    {{- include "gatehouse.volumes" . | nindent 4 }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
