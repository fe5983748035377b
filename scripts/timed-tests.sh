#!/usr/bin/env bash
# Runs a test command (make test's `swift test ...`), its output shown as it comes and kept in
# .build/test-output.log, then prints each test class's time, slowest first, so a slow test is
# seen the day it is written. Exits with the test command's status.
#   scripts/timed-tests.sh swift test --skip-build --skip SoakTests
# With --parallel the times come from the command's --xunit-output file (the sum of the class's
# test times, since its tests run side by side with others); without, from XCTest's own lines.
set -uo pipefail
cd "$(dirname "$0")/.."
log=.build/test-output.log
mkdir -p .build
xunit=""
previous=""
for argument in "$@"; do
  [ "$previous" = "--xunit-output" ] && xunit=$argument
  previous=$argument
done
[ -n "$xunit" ] && rm -f "$xunit"
started=$(date +%s)
"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
elapsed=$(($(date +%s) - started))
echo
echo "Time per test class, slowest first (seconds, tests, class):"
if [ -n "$xunit" ] && [ -f "$xunit" ]; then
  # <testcase classname="Module.Class" name="testX" time="1.23">, then <failure …> when it failed.
  awk '
    /<testcase / {
      name = $0; sub(/.*classname="/, "", name); sub(/".*/, "", name); sub(/^[^.]*\./, "", name)
      seconds = $0; sub(/.* time="/, "", seconds); sub(/".*/, "", seconds)
      time[name] += seconds; count[name]++; last = name
    }
    /<failure/ { failed[last] = "  FAILED" }
    END { for (name in time) printf "%8.1f  %4d  %s%s\n", time[name], count[name], name, failed[name] }
  ' "$xunit" | sort -rn > .build/test-times.txt
else
  # XCTest ends each class with "Test Suite 'Class' passed|failed at ..." and, on the next line,
  # "Executed N tests, with F failures (U unexpected) in T (W) seconds".
  awk '
    /^Test Suite \x27.*\x27 (passed|failed) at / {
      name = $0; sub(/^Test Suite \x27/, "", name); sub(/\x27.*/, "", name)
      failed = ($0 ~ /\x27 failed at /) ? "  FAILED" : ""
      wanted = (name !~ /\.xctest$/ && name != "All tests" && name != "Selected tests" && name != "Debug tests")
      next
    }
    wanted && /Executed [0-9]+ tests?, with/ {
      seconds = $0; sub(/^.* \(/, "", seconds); sub(/\) seconds.*/, "", seconds)
      printf "%8.1f  %4d  %s%s\n", seconds, $2, name, failed
      wanted = 0
    }
  ' "$log" | sort -rn > .build/test-times.txt
fi
cat .build/test-times.txt
awk -v elapsed="$elapsed" '{ seconds += $1; tests += $2 } END { printf "%8.1f  %4d  in %d classes; the test phase took %d s\n", seconds, tests, NR, elapsed }' .build/test-times.txt
exit "$status"
