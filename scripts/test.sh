#!/usr/bin/env bash
# Runs every test project of the solution with line coverage (coverlet), then prints one closing line:
# "N passed, N failed, N skipped". Coverage floors live in each test project (CoverageFloor).
set -euo pipefail
cd "$(dirname "$0")/.."
configuration="${1:-Release}"
rm -rf artifacts/test-results artifacts/coverage
mkdir -p artifacts/test-results artifacts/coverage
log=artifacts/test-results/test.log

set +e
dotnet test GcpStreams.sln -c "$configuration" --no-build \
  --results-directory artifacts/test-results \
  --logger "trx" --logger "console;verbosity=minimal" \
  /p:CollectCoverage=true /p:CoverletOutputFormat=cobertura \
  2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Sum the per-assembly result lines ("Passed!  - Failed: 0, Passed: 91, Skipped: 0, Total: 91, ...").
awk '
  /(Passed|Failed)! +- +Failed: / {
    for (i = 1; i <= NF; i++) {
      v = $(i+1); gsub(/,/, "", v)
      if ($i == "Failed:") failed += v
      if ($i == "Passed:") passed += v
      if ($i == "Skipped:") skipped += v
    }
    assemblies++
  }
  END {
    if (assemblies == 0) { print "no test results were reported"; exit 1 }
    printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
  }' "$log" || status=1
exit "$status"
