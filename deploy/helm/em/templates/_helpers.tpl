{{/* Names and labels. */}}
{{- define "em.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "em.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "em.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "em.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "em.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "em.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: include "em.selectorLabels" (list . "web") */}}
{{- define "em.selectorLabels" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ include "em.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "em.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "em.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "em.fullname" .)) }}
{{- end }}

{{/* Environment of every EM container: the ConfigMap, the Secret, and EM_ALLOWED_HOSTS. */}}
{{- define "em.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "em.fullname" . }}-config
  - secretRef:
      name: {{ include "em.secretName" . }}
env:
  - name: EM_ALLOWED_HOSTS
    value: {{ join "," .Values.allowedHosts | quote }}
  - name: EM_DATA_DIR
    value: /var/lib/em
{{- end }}

{{/* Restart pods when the configuration changes. */}}
{{- define "em.configChecksum" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}

{{/* Pod-level fields shared by every EM pod. */}}
{{- define "em.podSpec" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir: {}
{{- end }}

{{/* Init container that waits until the migration Job has brought the schema up to date. */}}
{{- define "em.waitForMigrations" -}}
{{- if and .Values.migrations.enabled .Values.migrations.waitInPods -}}
initContainers:
  - name: wait-for-migrations
    image: {{ include "em.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command: ["sh", "-c", "until python manage.py migrate --check >/dev/null 2>&1; do echo 'waiting for migrations'; sleep 5; done"]
    {{- include "em.env" . | nindent 4 }}
    securityContext:
      {{- toYaml .Values.securityContext | nindent 6 }}
    resources:
      requests: {cpu: 10m, memory: 128Mi}
{{- end }}
{{- end }}

{{/* The web probes' request: an allowed Host and https, as the ingress sends. */}}
{{- define "em.webProbe" -}}
path: {{ .path }}
port: http
httpHeaders:
  - name: Host
    value: {{ first .root.Values.allowedHosts | trimPrefix "." | quote }}
  - name: X-Forwarded-Proto
    value: https
{{- end }}
