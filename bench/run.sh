#!/usr/bin/env bash
# StoryVerse benchmarks. Prints a table:
#   - time to generate one story from the command line (mean of N runs);
#   - time from POST to a ready story through the server;
#   - GET /api/v1/stories/{id} throughput and p99 latency at 64 connections (wrk);
#   - milliseconds to draw a page's picture and a cover, per art style, one core;
#   - no-op jobs per second through the job queue, 1, 2 and 4 workers, on SQLite
#     and on a throwaway PostgreSQL with its default (durable) commit settings.
#   - narration: real-time factors of speech, music and the whole pipeline, one core;
#   - the language model: decode speed and memory (bench/lm.sh, its own table).
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
QUEUE_BIN=${STORYVERSE_QUEUE_BENCH:-build/bench/storyverse-queue-bench}
PICTURES_BIN=${STORYVERSE_ILLUSTRATE_BENCH:-build/bench/storyverse-illustrate-bench}
GOAL_PAGE_MS=150
QUEUE_JOBS=${BENCH_QUEUE_JOBS:-5000}
QUEUE_WORKERS=(1 2 4)
GOAL_QUEUE_JOBS_S=2000

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
		"$BIN" generate --no-images --universe "$universe" --hero "$hero" --length "$length" --seed "$i" \
			--name Sam --out "$tmp/gen" >/dev/null 2>&1
	done
	end=$(now_ns)
	echo "scale=2; ($end - $start) / $RUNS / 1000000" | bc | awk '{printf "%.2f", $1}'
}
gen_bedtime=$(gen_ms bedtime)
gen_epic=$(gen_ms epic)

# 2. The server: POST to ready, then GET throughput.
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# Words only: the pictures have their own rows below.
"$BIN" serve --no-images --listen "127.0.0.1:$port" --data "$tmp/data" --log-level warn 2>"$tmp/server.log" &
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

# 3. Pictures, on one core (taskset keeps the drawing on one CPU).
taskset -c 0 "$PICTURES_BIN" --stories "${BENCH_PICTURE_STORIES:-8}" >"$tmp/pictures.txt"
picture_ms() { awk -v k="$1" -v s="style=$2" '$1 == k && $2 == s { sub("ms=", "", $3); print $3 }' "$tmp/pictures.txt"; }
slowest_page=$(awk '$1 == "page" { sub("ms=", "", $3); if ($3 > m) m = $3 } END { print m + 0 }' "$tmp/pictures.txt")
pictures_verdict=$(awk -v m="$slowest_page" -v g="$GOAL_PAGE_MS" 'BEGIN { print (m <= g ? "met" : "missed") }')

# 4. The job queue alone: claim + succeed of no-op jobs. The program checks that
# every job ran exactly once and exits 1 otherwise; a failure fails the bench.
queue_failed=""
workers_list=$(IFS=,; echo "${QUEUE_WORKERS[*]}")
"$QUEUE_BIN" --sqlite "$tmp/queue" --jobs "$QUEUE_JOBS" --workers "$workers_list" \
	>"$tmp/queue.txt" || queue_failed="SQLite"
"$QUEUE_BIN" --postgres --jobs "$QUEUE_JOBS" --workers "$workers_list" \
	>>"$tmp/queue.txt" || queue_failed="${queue_failed:+$queue_failed and }PostgreSQL"
# queue_field LINE BACKEND FIELD [WORKERS]: one value from the program's output,
# whose lines are "settings backend=B key=value..." and "run backend=B workers=W ...".
queue_field() {
	awk -v line="$1" -v b="backend=$2" -v f="$3=" -v w="workers=${4:-}" '
		$1 == line && $2 == b && (line == "settings" || $3 == w) {
			for (i = 3; i <= NF; i++) if (index($i, f) == 1) { print substr($i, length(f) + 1); exit }
		}' "$tmp/queue.txt"
}
# queue_rows BACKEND NAME: one table row per worker count.
queue_rows() {
	local backend=$1 name=$2 w
	for w in "${QUEUE_WORKERS[@]}"; do
		printf '%-52s %14s\n' "queue, $name, $w worker$([[ $w == 1 ]] || echo s)" \
			"$(queue_field run "$backend" jobs_per_s "$w") jobs/s"
	done
}
pg_queue_best=$(queue_field run postgres jobs_per_s 4)
queue_verdict=$(awk -v r="${pg_queue_best:-0}" -v g="$GOAL_QUEUE_JOBS_S" 'BEGIN { print (r >= g ? "met" : "missed") }')
verdict=$(echo "$p99_ms < $GOAL_P99_MS" | bc -l | sed 's/1/met/;s/0/missed/')

printf '\n%-52s %14s\n' "benchmark ($(nproc) cores)" "result"
printf '%-52s %14s\n' "----------------------------------------------------" "--------------"
printf '%-52s %11s ms\n' "generate one bedtime story (CLI, mean of $RUNS)" "$gen_bedtime"
printf '%-52s %11s ms\n' "generate one epic story (CLI, mean of $RUNS)" "$gen_epic"
printf '%-52s %11s ms\n' "POST /api/v1/stories until ready, words (mean of 20)" "$post_ms"
printf '%-52s %14s\n' "GET /api/v1/stories/{id} throughput, $CONNECTIONS conns" "$rps req/s"
printf '%-52s %11s ms\n' "GET /api/v1/stories/{id} p50 latency" "$p50_ms"
printf '%-52s %11s ms\n' "GET /api/v1/stories/{id} p99 latency (goal < ${GOAL_P99_MS} ms)" "$p99_ms"
printf '%-52s %14s\n' "p99 goal" "$verdict"
for style in watercolour flat crayon; do
	printf '%-52s %11s ms\n' "draw one 1024x768 page, $style (1 core)" "$(picture_ms page "$style")"
	printf '%-52s %11s ms\n' "draw one 768x1024 cover, $style (1 core)" "$(picture_ms cover "$style")"
done
printf '%-52s %14s\n' "page goal (<= ${GOAL_PAGE_MS} ms in every style)" "$pictures_verdict"
printf '%-52s %14s\n' "queue: $QUEUE_JOBS no-op jobs, claim + succeed" ""
printf '%-52s %14s\n' "  SQLite $(queue_field settings sqlite version): WAL, synchronous=normal" ""
queue_rows sqlite SQLite
printf '%-52s %14s\n' "  PostgreSQL $(queue_field settings postgres version): fsync=$(queue_field settings postgres fsync), synchronous_commit=$(queue_field settings postgres synchronous_commit)" ""
queue_rows postgres PostgreSQL
printf '%-52s %14s\n' "queue goal (>= ${GOAL_QUEUE_JOBS_S} jobs/s on PostgreSQL, 4 workers)" "$queue_verdict"
[[ -z "$errors" ]] || echo "wrk reported: $errors"
if [[ -n "$queue_failed" ]]; then
	echo "queue bench FAILED on $queue_failed (every job must run exactly once)" >&2
	exit 1
fi

# Narration, on one core: real-time factors (seconds of audio per second).
NARRATE_BIN=${STORYVERSE_NARRATE_BENCH:-build/bench/storyverse-narrate-bench}
GOAL_NARRATE_RTF=50
taskset -c 0 "$NARRATE_BIN" --stories "${BENCH_NARRATE_STORIES:-4}" >"$tmp/narrate.txt"
rtf() { awk -v k="$1" -v p="${2:-}" '$1 == k && ($2 == p || p == "") { for (i = 2; i <= NF; i++) if ($i ~ /^rtf=/) { sub("rtf=", "", $i); print $i } }' "$tmp/narrate.txt"; }
printf '%-52s %14s\n' "narration, one core (x real time)" ""
printf '%-52s %13sx\n' "  speech alone, espeak-ng" "$(rtf tts provider=espeak-ng)"
printf '%-52s %13sx\n' "  speech alone, flite" "$(rtf tts provider=flite)"
printf '%-52s %13sx\n' "  music alone (fluidsynth, 24 kHz)" "$(rtf music)"
printf '%-52s %13sx\n' "  whole pipeline, espeak-ng (voices, music, codecs)" "$(rtf pipeline provider=espeak-ng)"
printf '%-52s %13sx\n' "  whole pipeline, flite" "$(rtf pipeline provider=flite)"
printf '%-52s %14s\n' "narration goal (>= ${GOAL_NARRATE_RTF}x real time, whole pipeline)" \
	"$(awk -v r="$(rtf pipeline provider=espeak-ng)" -v g="$GOAL_NARRATE_RTF" 'BEGIN { print (r >= g ? "met" : "missed") }')"

# Moderation, on one core: MB/s over story pages (as the text worker checks
# them) and over a whole book at once.
MODERATE_BIN=${STORYVERSE_MODERATE_BENCH:-build/bench/storyverse-moderate-bench}
GOAL_MODERATE_MBPS=20
taskset -c 0 "$MODERATE_BIN" --stories "${BENCH_MODERATE_STORIES:-16}" >"$tmp/moderate.txt"
field() { awk -v k="$1" -v kind="$2" -v f="$3" '$1 == k && $2 == "kind=" kind { for (i = 3; i <= NF; i++) if (index($i, f "=") == 1) { sub(f "=", "", $i); print $i } }' "$tmp/moderate.txt"; }
printf '%-52s %14s\n' "moderation, one core (MB/s)" ""
printf '%-52s %14s\n' "  check, page by page" "$(field check pages mbps)"
printf '%-52s %14s\n' "  check, a whole book as one text" "$(field check book mbps)"
printf '%-52s %12sus\n' "  one whole book" "$(field check book us_per_book)"
printf '%-52s %14s\n' "  soften and check, page by page (ages 3-5)" "$(field soften pages mbps)"
printf '%-52s %14s\n' "moderation goal (>= ${GOAL_MODERATE_MBPS} MB/s, page by page)" \
	"$(awk -v r="$(field check pages mbps)" -v g="$GOAL_MODERATE_MBPS" 'BEGIN { print (r >= g ? "met" : "missed") }')"

# The language model engine: its own table (bench/lm.sh).
bench/lm.sh
