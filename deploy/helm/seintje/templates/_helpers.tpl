{{- define "seintje.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "seintje.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "seintje.labels" -}}
app.kubernetes.io/name: {{ include "seintje.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "seintje.selectorLabels" -}}
app.kubernetes.io/name: {{ include "seintje.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "seintje.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "seintje.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The workload kind: a StatefulSet gives every pod its own spool volume back. */}}
{{- define "seintje.kind" -}}
{{- if .Values.spool.persistence.enabled -}}StatefulSet{{- else -}}Deployment{{- end -}}
{{- end -}}

{{/* secretFiles: env var => secret key, for the keys that are set. */}}
{{- define "seintje.secretEnv" -}}
{{- $k := .Values.secrets.keys -}}
{{- $m := dict "SEINTJE_HASH_KEY" $k.hashKey "SEINTJE_API_TOKENS" $k.apiTokens "TWILIO_AUTH_TOKEN" $k.twilioAuthToken "TELEGRAM_BOT_TOKEN" $k.telegramBotToken "TELEGRAM_WEBHOOK_SECRET" $k.telegramWebhookSecret "SEINTJE_OIDC_CLIENT_SECRET" $k.oidcClientSecret "REDIS_PASSWORD" $k.redisPassword -}}
{{- range .Values.events.subscribers -}}
{{- $_ := set $m (printf "SEINTJE_EVENTS_%s_SECRET" (include "seintje.eventsName" .name)) (required "events.subscribers[].secretKey: name the key of the Secret that holds the signing secret" .secretKey) -}}
{{- end -}}
{{- toYaml $m -}}
{{- end -}}

{{/* eventsName: a subscriber name as it appears in variable names. */}}
{{- define "seintje.eventsName" -}}
{{- . | replace "-" "_" | upper -}}
{{- end -}}
