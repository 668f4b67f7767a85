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

# Name every test that did not pass, with the start of its error message and stack trace, so the end of a long log
# says what to look at and why (a CI log is often read only from its tail).
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  awk '
    function unescape(s) { gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&#xD;/, "", s); gsub(/&#xA;/, "\n", s); gsub(/&amp;/, "\\&", s); return s }
    /<UnitTestResult / {
      failing = match($0, /outcome="(Failed|Error|Timeout|Aborted)"/)
      if (failing) {
        outcome = substr($0, RSTART + 9, RLENGTH - 10)
        name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name)
        print outcome ": " unescape(name)
      }
      section = ""; lines = 0
    }
    failing && /<Message>/ { section = "message"; lines = 0 }
    failing && /<StackTrace>/ { section = "stack"; lines = 0 }
    failing && section != "" {
      line = $0; sub(/.*<(Message|StackTrace)>/, "", line); sub(/<\/(Message|StackTrace)>.*/, "", line)
      limit = section == "message" ? 30 : 8
      if (++lines <= limit) { print "    " unescape(line) } else if (lines == limit + 1) { print "    ..." }
      if ($0 ~ /<\/(Message|StackTrace)>/) { section = "" }
    }
    /<\/UnitTestResult>/ { failing = 0; section = "" }
  ' "$trx" || true
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ]
