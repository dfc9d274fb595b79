#!/usr/bin/env bash
# Runs every test: the release build (unit, integration, browser), a fuzzing
# smoke run, then the AddressSanitizer + UBSan build (unit and integration).
# Ends with one summary line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
status=0

# Runs ctest in a build folder and adds its counts to the totals.
run_ctest() {
	local dir=$1
	local log
	log=$(mktemp)
	ctest --test-dir "$dir" --output-on-failure --timeout 300 -j2 2>&1 | tee "$log"
	local line total nfail
	line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1)
	if [[ -z "$line" ]]; then
		failed=$((failed + 1))
		status=1
	else
		nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
		total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
		passed=$((passed + total - nfail))
		failed=$((failed + nfail))
		((nfail == 0)) || status=1
	fi
	rm -f "$log"
}

echo "== release build: unit, integration and browser tests"
run_ctest build

echo "== fuzz smoke runs"
for f in build-fuzz/fuzz_*; do
	[[ -x "$f" ]] || continue
	name=$(basename "$f")
	# libFuzzer adds what it finds to its corpus folder: give it a copy of the seeds.
	corpus="build-fuzz/corpus-$name"
	rm -rf "$corpus" && mkdir -p "$corpus"
	seeds="tests/fuzz/corpus/${name#fuzz_}"
	[[ -d "$seeds" ]] && cp "$seeds"/* "$corpus"/
	if "$f" -runs=20000 -max_len=4096 "$corpus" >"build-fuzz/$name.log" 2>&1; then
		echo "$name: ok"
		passed=$((passed + 1))
	else
		echo "$name: FAILED (see build-fuzz/$name.log)"
		tail -n 30 "build-fuzz/$name.log"
		failed=$((failed + 1))
		status=1
	fi
done

echo "== AddressSanitizer + UBSan build: unit and integration tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" \
	run_ctest build-asan

echo "$passed passed, $failed failed"
exit $status
