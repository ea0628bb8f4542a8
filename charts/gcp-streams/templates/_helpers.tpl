{{/* The release's resource name (the service's name), and the labels every resource carries. */}}
{{- define "gcp-streams.name" -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "gcp-streams.environment" -}}
{{- $env := required "environment is required: dev, qa or prod (use values-<env>.yaml)" .Values.environment -}}
{{- if not (has $env (list "dev" "qa" "prod")) -}}
{{- fail (printf "environment must be dev, qa or prod (got %q)" $env) -}}
{{- end -}}
{{- $env -}}
{{- end -}}

{{- define "gcp-streams.selectorLabels" -}}
app.kubernetes.io/name: gcp-streams
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gcp-streams.labels" -}}
{{ include "gcp-streams.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gift-certificates
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
environment: {{ include "gcp-streams.environment" . }}
{{- end -}}

{{/* Strimzi resources name their Kafka cluster with this label. */}}
{{- define "gcp-streams.strimziLabels" -}}
{{ include "gcp-streams.labels" . }}
strimzi.io/cluster: {{ required "kafka.cluster (the Strimzi Kafka cluster) is required" .Values.kafka.cluster }}
{{- end -}}

{{- define "gcp-streams.applicationId" -}}
{{- $id := required "kafka.applicationId is required" .Values.kafka.applicationId -}}
{{- if not (regexMatch "^[A-Za-z0-9._-]{1,100}$" $id) -}}
{{- fail (printf "kafka.applicationId must be 1-100 of A-Za-z0-9._- (got %q)" $id) -}}
{{- end -}}
{{- $id -}}
{{- end -}}

{{/* A topic name from files/topics.yaml with {app} replaced by the application id. */}}
{{- define "gcp-streams.topicName" -}}
{{- .name | replace "{app}" .app -}}
{{- end -}}

{{/* A Kubernetes resource name for a topic: lower case, '_' as '-'. */}}
{{- define "gcp-streams.topicResourceName" -}}
{{- . | lower | replace "_" "-" | trunc 253 | trimSuffix "-" | trimSuffix "." -}}
{{- end -}}

{{- define "gcp-streams.bootstrapServers" -}}
{{- default (printf "%s-kafka-bootstrap:9093" .Values.kafka.cluster) .Values.kafka.bootstrapServers -}}
{{- end -}}

{{- define "gcp-streams.clusterCaSecret" -}}
{{- default (printf "%s-cluster-ca-cert" .Values.kafka.cluster) .Values.kafka.clusterCaSecret -}}
{{- end -}}

{{/* The topics of files/topics.yaml (generated from the code's TopologyTopics), as a list. */}}
{{- define "gcp-streams.topics" -}}
{{- (.Files.Get "files/topics.yaml" | fromYaml).topics | toYaml -}}
{{- end -}}
