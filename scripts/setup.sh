#!/usr/bin/env bash
# Installs what the project needs beyond NuGet packages: the repository's dotnet tools (smtp4dev), and once per machine kcat
# (a real Kafka CLI client, used by the kcat smoke tests and shown by `make run`; Debian's package, needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
# the repository's dotnet tools (.config/dotnet-tools.json): smtp4dev, the real SMTP server of `make notifier` and the tests
dotnet tool restore >/dev/null
if command -v kcat >/dev/null 2>&1; then
  exit 0
fi
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "setup: installing kcat (Debian package)"
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq kcat >/dev/null
kcat -V | head -1
