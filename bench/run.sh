#!/usr/bin/env bash
# StoryVerse benchmarks. Prints a table:
#   - time to generate one story from the command line (mean of N runs);
#   - time from POST to a ready story through the server;
#   - GET /api/v1/stories/{id} throughput and p99 latency at 64 connections (wrk).
# Everything runs on loopback and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${STORYVERSE_BIN:-build/storyverse}
RUNS=${BENCH_RUNS:-50}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
# wrk shares the machine with the server: one load thread leaves the server its cores.
THREADS=${BENCH_THREADS:-1}
GOAL_P99_MS=5

tmp=$(mktemp -d)
server_pid=""
cleanup() {
	[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

catalog=$("$BIN" catalog)
universe=$(node -e 'const c=JSON.parse(process.argv[1]);console.log(c.universes[0].id)' "$catalog")
hero=$(node -e 'const c=JSON.parse(process.argv[1]);console.log(c.characters.find(x=>x.universe===c.universes[0].id).id)' "$catalog")

# 1. One story from the command line, bedtime and epic.
gen_ms() {
	local length=$1 start end
	start=$(now_ns)
	for ((i = 0; i < RUNS; i++)); do
		"$BIN" generate --universe "$universe" --hero "$hero" --length "$length" --seed "$i" \
			--name Sam --out "$tmp/gen" >/dev/null 2>&1
	done
	end=$(now_ns)
	echo "scale=2; ($end - $start) / $RUNS / 1000000" | bc | awk '{printf "%.2f", $1}'
}
gen_bedtime=$(gen_ms bedtime)
gen_epic=$(gen_ms epic)

# 2. The server: POST to ready, then GET throughput.
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"$BIN" serve --listen "127.0.0.1:$port" --data "$tmp/data" --log-level warn 2>"$tmp/server.log" &
server_pid=$!
base="http://127.0.0.1:$port"
for ((i = 0; i < 100; i++)); do
	curl -fs "$base/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done

read -r post_ms story_id < <(node bench/post_ready.mjs "$base" "$universe" "$hero" 20)

wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$base/api/v1/stories/$story_id" >"$tmp/wrk.txt"
rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.txt")
to_ms() {
	local v=$1
	case "$v" in
	*us) echo "scale=3; ${v%us} / 1000" | bc ;;
	*ms) echo "${v%ms}" ;;
	*s) echo "scale=3; ${v%s} * 1000" | bc ;;
	*) echo "$v" ;;
	esac
}
p99_ms=$(to_ms "$p99" | awk '{printf "%.3f", $1}')
p50_ms=$(to_ms "$p50" | awk '{printf "%.3f", $1}')
errors=$(awk '/Non-2xx|Socket errors/ {print}' "$tmp/wrk.txt")
verdict=$(echo "$p99_ms < $GOAL_P99_MS" | bc -l | sed 's/1/met/;s/0/missed/')

printf '\n%-52s %14s\n' "benchmark ($(nproc) cores)" "result"
printf '%-52s %14s\n' "----------------------------------------------------" "--------------"
printf '%-52s %11s ms\n' "generate one bedtime story (CLI, mean of $RUNS)" "$gen_bedtime"
printf '%-52s %11s ms\n' "generate one epic story (CLI, mean of $RUNS)" "$gen_epic"
printf '%-52s %11s ms\n' "POST /api/v1/stories until ready (mean of 20)" "$post_ms"
printf '%-52s %14s\n' "GET /api/v1/stories/{id} throughput, $CONNECTIONS conns" "$rps req/s"
printf '%-52s %11s ms\n' "GET /api/v1/stories/{id} p50 latency" "$p50_ms"
printf '%-52s %11s ms\n' "GET /api/v1/stories/{id} p99 latency (goal < ${GOAL_P99_MS} ms)" "$p99_ms"
printf '%-52s %14s\n' "p99 goal" "$verdict"
[[ -z "$errors" ]] || echo "wrk reported: $errors"
