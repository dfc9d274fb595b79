#!/usr/bin/env bash
# The language model engine's speed on a 110M-parameter checkpoint in
# llama2.c's shape (dim 768, hidden 2048, 12 layers, 12 heads, vocab 32000).
# Without BENCH_LM_MODEL the weights are random (made once under build/bench-lm):
# speed does not depend on what the weights are. Prints decode speed for fp32,
# int8 and int8 in batches of 8, peak resident memory, and, when LLAMA2C names
# a llama2.c checkout, its run.c built with -Ofast -march=native -fopenmp and
# timed in the same run on the same checkpoint, with the ratios and goals.
# Each speed is the best of BENCH_LM_RUNS runs (default 3), ours and theirs alike.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${STORYVERSE_BIN:-build/storyverse}
FIXTURE=${STORYVERSE_LM_FIXTURE:-build/tests/storyverse-lm-fixture}
THREADS=${BENCH_LM_THREADS:-2}
STEPS=${BENCH_LM_STEPS:-192}
RUNS=${BENCH_LM_RUNS:-3}
LLAMA2C=${LLAMA2C:-}
dir=build/bench-lm
mkdir -p "$dir"

model=${BENCH_LM_MODEL:-$dir/m110.bin}
tokenizer=${BENCH_LM_TOKENIZER:-$dir/tokenizer.bin}
if [[ -z "${BENCH_LM_MODEL:-}" && ! -f "$model" ]]; then
	"$FIXTURE" --dim 768 --hidden 2048 --layers 12 --heads 12 --kv-heads 12 --vocab 32000 \
		--seq-len 1024 --seed 110 --model "$model" --tokenizer "$tokenizer"
fi
q8="$dir/$(basename "$model" .bin).q8.bin"
if [[ ! -f "$q8" || "$q8" -ot "$model" ]]; then
	"$BIN" lm quantize "$model" "$q8"
fi

# Best "N tok/s" (the last line) of RUNS runs of our bench; also keeps the
# last run's output in $dir/last.txt.
ours() {
	local best=0 r
	for ((i = 0; i < RUNS; i++)); do
		"$BIN" lm bench --model "$1" --tokenizer "$tokenizer" --threads "$THREADS" \
			--steps "$STEPS" --batch "$2" >"$dir/last.txt"
		r=$(tail -n 1 "$dir/last.txt" | awk '{print $1}')
		best=$(awk -v a="$best" -v b="$r" 'BEGIN { print (b > a ? b : a) }')
	done
	echo "$best"
}

fp32=$(ours "$model" 1)
fp32_mem=$(awk '/^memory/ {print $2}' "$dir/last.txt")
int8=$(ours "$q8" 1)
int8_mem=$(awk '/^memory/ {print $2}' "$dir/last.txt")
batch8=$(ours "$q8" 8)
batch8_stream=$(awk '/^decode/ {print $(NF-3)}' "$dir/last.txt")

theirs=""
if [[ -n "$LLAMA2C" ]]; then
	gcc -Ofast -march=native -fopenmp "$LLAMA2C/run.c" -lm -o "$dir/llama2c-run"
	best=0
	for ((i = 0; i < RUNS; i++)); do
		r=$(OMP_NUM_THREADS=$THREADS "$dir/llama2c-run" "$model" -z "$tokenizer" -t 0 \
			-n $((STEPS + 64)) -i "Once upon a time" 2>&1 >/dev/null | awk '/achieved tok/ {print $3}')
		best=$(awk -v a="$best" -v b="${r:-0}" 'BEGIN { print (b > a ? b : a) }')
	done
	theirs=$best
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
verdict() { awk -v a="$1" -v b="$2" -v g="$3" 'BEGIN { if (b <= 0) print "-"; else print (a / b >= g ? "met" : "missed") }'; }

printf '\n%-56s %12s %8s %10s\n' "language model, $(basename "$model"), $THREADS threads" "tok/s" "ratio" "goal"
printf '%-56s %12s %8s %10s\n' "--------------------------------------------------------" "------------" "--------" "----------"
if [[ -n "$theirs" ]]; then
	printf '%-56s %12s %8s %10s\n' "llama2.c run.c, fp32 (-Ofast -march=native -fopenmp)" "$theirs" "1.00x" ""
else
	printf '%-56s %12s %8s %10s\n' "llama2.c run.c: not measured (set LLAMA2C=checkout)" "-" "" ""
fi
printf '%-56s %12s %8s %10s\n' "storyverse fp32 decode, 1 stream" "$fp32" "$(ratio "$fp32" "$theirs")" ">= 1.0x"
printf '%-56s %12s %8s %10s\n' "storyverse int8 decode, 1 stream" "$int8" "$(ratio "$int8" "$theirs")" ">= 2.5x"
printf '%-56s %12s %8s %10s\n' "storyverse int8 decode, batch 8 (aggregate)" "$batch8" "$(ratio "$batch8" "$int8")" ">= 4x int8"
printf '%-56s %12s\n' "  per stream in the batch of 8" "$batch8_stream"
printf '%-56s %9s MB %8s %10s\n' "peak resident memory, fp32" "$fp32_mem" "" ""
printf '%-56s %9s MB %8s %10s\n' "peak resident memory, int8" "$int8_mem" "" "< 200 MB"
printf '%-56s %12s\n' "fp32 goal (>= 1.0x llama2.c)" "$(verdict "$fp32" "$theirs" 1.0)"
printf '%-56s %12s\n' "int8 goal (>= 2.5x llama2.c)" "$(verdict "$int8" "$theirs" 2.5)"
printf '%-56s %12s\n' "batch goal (>= 4x int8 single stream)" "$(verdict "$batch8" "$int8" 4)"
printf '%-56s %12s\n' "memory goal (int8 < 200 MB)" "$(awk -v m="$int8_mem" 'BEGIN { print (m < 200 ? "met" : "missed") }')"
