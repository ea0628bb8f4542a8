#!/usr/bin/env bash
# `make notifier`: a real SMTP server with a web UI (smtp4dev, the repository's dotnet tool) and the CRM notifier against a
# running service (`make run` prints the line). Ctrl+C stops both. Settings: KAFKA, SCHEMA_REGISTRY, API as for `make demo`;
# SMTP4DEV_URL (web UI and its REST API, default http://127.0.0.1:5000), SMTP_PORT (default 2525), CONFIGURATION.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${KAFKA:?KAFKA=host:port of the brokers of the service (make run prints it)}"
SCHEMA_REGISTRY="${SCHEMA_REGISTRY:-http://127.0.0.1:8080/schema-registry}"
API="${API:-http://127.0.0.1:8080}"
SMTP4DEV_URL="${SMTP4DEV_URL:-http://127.0.0.1:5000}"
SMTP_PORT="${SMTP_PORT:-2525}"
CONFIGURATION="${CONFIGURATION:-Release}"
log="${TMPDIR:-/tmp}/gcp-smtp4dev.log"

dotnet tool restore >/dev/null
dotnet build crm-notifier/GcpStreams.CrmNotifier -c "$CONFIGURATION" -v quiet -nologo >/dev/null

dotnet tool run smtp4dev -- --urls="$SMTP4DEV_URL" --smtpport="$SMTP_PORT" --db= --hostname=127.0.0.1 --tlsmode=None \
  --imapport= --pop3port= --nousersettings --messagestokeep=100000 >"$log" 2>&1 &
smtp4dev=$!
# `dotnet tool run` starts smtp4dev's own executable as its child: stop both
stop() { pkill -TERM -P "$smtp4dev" 2>/dev/null || true; kill "$smtp4dev" 2>/dev/null || true; wait "$smtp4dev" 2>/dev/null || true; }
trap stop EXIT INT TERM

for _ in $(seq 1 120); do
  if curl -fs "$SMTP4DEV_URL/api/messages" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$smtp4dev" 2>/dev/null; then echo "smtp4dev stopped, see $log" >&2; exit 1; fi
  sleep 0.5
done
curl -fs "$SMTP4DEV_URL/api/messages" >/dev/null || { echo "smtp4dev did not answer at $SMTP4DEV_URL, see $log" >&2; exit 1; }

cat <<BANNER
smtp4dev (a real SMTP server) is running.
  Received mail (web UI):  $SMTP4DEV_URL
  Its REST API:            $SMTP4DEV_URL/api/messages
  SMTP:                    127.0.0.1:$SMTP_PORT
The CRM notifier starts now (consumer group gcp-crm-notifier on $KAFKA, API $API). Then, in another terminal:
  make demo KAFKA=$KAFKA SCHEMA_REGISTRY=$SCHEMA_REGISTRY API=$API
Ctrl+C stops the notifier and smtp4dev.
BANNER

dotnet crm-notifier/GcpStreams.CrmNotifier/bin/"$CONFIGURATION"/net10.0/gcp-crm-notifier.dll \
  --Notifier:BootstrapServers="$KAFKA" \
  --Notifier:SchemaRegistryUrl="$SCHEMA_REGISTRY" \
  --Notifier:Api:BaseUrl="$API" \
  --Notifier:Api:ClientSecret="${CRM_NOTIFIER_SECRET:-crm-notifier-secret}" \
  --Notifier:Smtp:Host=127.0.0.1 \
  --Notifier:Smtp:Port="$SMTP_PORT" \
  --Notifier:Smtp:Security=None &
notifier=$!
stop() {
  kill "$notifier" 2>/dev/null || true; wait "$notifier" 2>/dev/null || true
  pkill -TERM -P "$smtp4dev" 2>/dev/null || true; kill "$smtp4dev" 2>/dev/null || true; wait "$smtp4dev" 2>/dev/null || true
}
trap stop EXIT INT TERM
wait "$notifier"
