#!/usr/bin/env bash
# The test command of README.md (and of .ci/run): installs what is missing, builds the solution with
# warnings as errors, runs every test project against real PostgreSQL clusters, and ends with one line
# "N passed, N failed, N skipped" for the whole run. Exit code 0 only when nothing failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-prerequisites.sh

results="artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

configuration="${CONFIGURATION:-Release}"
# The whole solution, the Functions app on the real Functions/Durable packages included, warnings as errors
# (NU1603 "nearest version" excepted: the feed serves some transitive packages only as a nearby version).
dotnet build RcmPitr.Functions.sln -c "$configuration" -warnaserror -warnnotaserror:NU1603 -nologo -clp:ErrorsOnly

# One run per test project, each writing its own TRX file (no name collisions between projects).
test_exit=0
for project in tests/*/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" -c "$configuration" --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" --results-directory "$results" \
    || test_exit=$?
done

# Sum the counters of every TRX file (one per test project).
read -r total passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]); c[kv[1]] += kv[2] } }
    END { printf "%d %d %d %d\n", c["total"], c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"], c["notExecuted"] }')

if [ "$test_exit" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The runner failed without a failed test in the results (a crash, a fixture that could not start).
  failed=1
fi

# Name every test that did not pass, so the end of a long log says what to look at.
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*>' "$trx" \
    | sed -E 's/.*testName="([^"]*)".*outcome="([^"]*)".*/\2: \1/' || true
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ]
