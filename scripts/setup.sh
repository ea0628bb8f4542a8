#!/usr/bin/env bash
# Installs what the project needs beyond NuGet packages, once per machine: kcat (a real Kafka CLI client,
# used by the kcat smoke tests and shown by `make run`). Debian's package; needs root or sudo.
set -euo pipefail
if command -v kcat >/dev/null 2>&1; then
  exit 0
fi
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "setup: installing kcat (Debian package)"
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq kcat >/dev/null
kcat -V | head -1
