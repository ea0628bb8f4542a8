#!/usr/bin/env bash
# Regenerates topology/GcpStreams.Contracts/Generated/ from avro/*.avsc (`make avro`).
# Works from any directory. Fails if a schema does not parse, a top-level record is not named as
# its file, or a named type shared by several files is defined differently in them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

dotnet run --project tools/GcpStreams.AvroGen -- \
  avro topology/GcpStreams.Contracts/Generated
