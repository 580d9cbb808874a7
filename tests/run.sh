#!/usr/bin/env bash
# The one command that runs every test on a fresh machine: installs what the tests need
# (from npm: the @grpc/grpc-js interop client and the WireMock standalone jar, run with the
# machine's Java 17), builds, and runs the whole NUnit suite.
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
npm ci --prefix examples/node --no-audit --no-fund --loglevel=error
dotnet build HealthScoring.sln -c Release -nologo -v quiet

log=$(mktemp)
status=0
dotnet test HealthScoring.sln -c Release --no-build -nologo 2>&1 | tee "$log" || status=$?

# One plain summary line ("N passed, N failed, N skipped") for CI, summed over the test assemblies.
awk '/(Passed|Failed)! +- +Failed: /{
  for (i = 1; i <= NF; i++) { v = $(i+1); gsub(",", "", v)
    if ($i == "Failed:") f += v; if ($i == "Passed:") p += v; if ($i == "Skipped:") s += v }
} END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit $status
