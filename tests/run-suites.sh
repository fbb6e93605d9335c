#!/bin/sh
# run-suites.sh SUITE... : run each test suite, keep its output in
# build/test-logs/<name>.log, count its result lines and end with the
# project's closing line "N passed, N failed".
#
# A suite is an executable that prints one line per test case:
#   PASS: <name>            or            FAIL: <name> [why]
# (SKIP: lines are counted as skipped). A suite that exits non-zero without
# printing a FAIL line counts as one failure, so a crash is never green.
set -u
logs=${TEST_LOGS:-build/test-logs}
mkdir -p "$logs"
passed=0 failed=0 skipped=0
for suite in "$@"; do
	name=$(echo "$suite" | sed 's|^\./||; s|/|_|g')
	log="$logs/$name.log"
	echo "== $suite"
	"$suite" >"$log" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP):' "$log"
	p=$(grep -c '^PASS:' "$log")
	f=$(grep -c '^FAIL:' "$log")
	s=$(grep -c '^SKIP:' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $suite exited $rc without a FAIL line"
		f=1
	fi
	if [ "$f" -ne 0 ]; then
		echo "-- last lines of $log:"
		tail -n 40 "$log" | sed 's/^/   | /'
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
echo
if [ "$skipped" -ne 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
