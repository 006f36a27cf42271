#!/usr/bin/env bash
# The E2 scaling grid's pipeline scripts (scripts/pipeline/), on tiny runs:
# the grid's model configs differ from their base in the size keys only,
# param-count.sh agrees with `hybench init`, a grid of 3 widths x 3 budgets
# trains, its points table has D = token_multiplier x n and the final
# LongPPL, the fit and summary come out, and bad widths / multipliers / run
# directories give one line and exit 2 without leaving a file.
# Run from the repo root: tests/cli/pipeline.sh (uses bin/hybench, or $HB).
set -euo pipefail
HB=${HB:-bin/hybench}
P=scripts/pipeline
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib/expect.sh"
[ -x "$HB" ] || { echo "no $HB (make bin/hybench)"; exit 1; }

# ---- model configs of the grid ------------------------------------------------
$P/scale-model.sh models/sf_w64.conf 32 "$work/sf_w64_d32.conf"
differ=$({ diff <(grep -v '^#' models/sf_w64.conf) <(grep -v '^#' "$work/sf_w64_d32.conf") || true; } | grep '^>' | awk '{print $2}' | sort | tr '\n' ' ')
if [ "$differ" = "d_model mlp_hidden n_heads name " ] && grep -qx 'n_heads = 2' "$work/sf_w64_d32.conf" \
   && grep -qx 'mlp_hidden = 96' "$work/sf_w64_d32.conf" && grep -qx 'window = 64' "$work/sf_w64_d32.conf"; then
  pass "scale-model.sh changes only name, d_model, n_heads, mlp_hidden"
else fail "scale-model.sh changed: '$differ'"; fi
$P/scale-model.sh models/sf_w64.conf 64 "$work/sf_w64_d64.conf"
if diff <(grep -v '^#' models/sf_w64.conf | grep -v '^name') <(grep -v '^#' "$work/sf_w64_d64.conf" | grep -v '^name') >/dev/null; then
  pass "scale-model.sh at the base width reproduces the base config"
else fail "scale-model.sh at width 64 differs from models/sf_w64.conf"; fi
expect_bad "width not a multiple of 16" "multiple of 16" "$work/bad.conf" -- $P/scale-model.sh models/ff.conf 24 "$work/bad.conf"
expect_bad "missing base config" "no_such.conf" "$work/bad.conf" -- $P/scale-model.sh models/no_such.conf 32 "$work/bad.conf"

n=$($P/param-count.sh "$HB" "$work/sf_w64_d32.conf")
init_n=$("$HB" init --model "$work/sf_w64_d32.conf" --out "$work/i.safetensors" | sed 's/.*, \([0-9]*\) parameters/\1/')
# 544 x 32 tied embedding + 2 layers x (4 x 32 x 32 attention + 3 x 32 x 96 SwiGLU + 2 x 32 norms) + 32 final norm
[ "$n" = "$init_n" ] && [ "$n" = 44192 ] && pass "param-count.sh: $n = hybench init = the formula" || fail "param-count.sh: $n, init $init_n, formula 44192"

# ---- a tiny grid: 3 widths x 3 multipliers on a small Markov-filler dataset ----
printf 'name = t\nhaystack = markov\nseq_len = 32\nn_train = 2000\nn_val = 64\nvocab = 280\n' > "$work/spec.conf"
printf 'onehop_keys = 4\nonehop_values = 4\np_fact = 0.1\np_query = 0.35\n' >> "$work/spec.conf"
"$HB" gen-data --spec "$work/spec.conf" --split train --seed 1 --out "$work/train.tok" >/dev/null
"$HB" gen-data --spec "$work/spec.conf" --split val --seed 2 --out "$work/val.tok" >/dev/null
sed 's/^vocab = .*/vocab = 280/' models/ff.conf > "$work/ff.conf"
runs=()
for w in 16 32 48; do
  $P/scale-model.sh "$work/ff.conf" $w "$work/ff_d$w.conf"
  for x in 1 2 4; do
    run=$work/runs/e2/ff_d$w/x$x
    $P/scaling-run.sh "$HB" "$work/ff_d$w.conf" $x "$run" --seed 1 --data "$work/train.tok" --seq-len 32 --batch 4 \
      --eval-set "$work/val.tok" --eval-far 16 --threads 1 --quiet > /dev/null
    runs+=("$run")
  done
done
[ "$(ls "$work"/runs/e2/ff_d*/x*/done | wc -l)" = 9 ] && pass "scaling-run.sh trained the 9 runs" || fail "scaling-run.sh: no done"
# A finished run resumes as a no-op (make re-checks runs when the binary is rebuilt).
before=$(md5sum < "$work/runs/e2/ff_d16/x1/evals.tsv")
$P/scaling-run.sh "$HB" "$work/ff_d16.conf" 1 "$work/runs/e2/ff_d16/x1" --seed 1 --data "$work/train.tok" --seq-len 32 --batch 4 \
  --eval-set "$work/val.tok" --eval-far 16 --threads 1 --quiet --resume > /dev/null 2>&1
[ "$before" = "$(md5sum < "$work/runs/e2/ff_d16/x1/evals.tsv")" ] && pass "a finished grid run re-runs as a no-op" || fail "re-run changed evals.tsv"

$P/scaling-points.sh "$HB" "$work/points.tsv" "${runs[@]}"
bad=$(awk -F'\t' 'NR > 1 { m = $3; sub(/n$/, "", m); d = m * $4 - $5; if (d < 0) d = -d
                          if (NF != 8 || $1 != "ff" || d > 1 || $5 % 128 != 0 || !($6 >= 1)) print NR }' "$work/points.tsv" | wc -l)
rows=$(tail -n +2 "$work/points.tsv" | wc -l)
[ "$rows" = 9 ] && [ "$bad" = 0 ] && pass "scaling-points.sh: 9 rows, tokens = multiplier x n in whole steps, LongPPL >= 1" \
  || { fail "scaling-points.sh: $rows rows, $bad bad"; cat "$work/points.tsv"; }
last=$(awk -F'\t' '$4 == "longppl" && $5 == -1 { v = $6 } END { print v }' "$work/runs/e2/ff_d32/x4/evals.tsv")
got=$(awk -F'\t' '$2 == "d32" && $3 ~ /^4\./ { print $6 }' "$work/points.tsv")
[ -n "$last" ] && [ "$last" = "$got" ] && pass "points take the final LongPPL ($got)" || fail "points LongPPL $got, final eval $last"

"$HB" fit scaling --in "$work/points.tsv" --formula no_constant --longppl --validate --out "$work/e2_fit_ff.tsv" > /dev/null
$P/scaling-summary.sh "$work/e2_scaling.tsv" "$work/e2_fit_ff.tsv"
if awk -F'\t' 'NR == 2 && $1 == "ff" && $11 == 6 && $14 == 3 && $2 >= 0 && $10 > 0 { ok = 1 } END { exit !ok }' "$work/e2_scaling.tsv"; then
  pass "scaling-summary.sh: ff fitted on d16, d32 (6 points), validated on d48 (3 points)"
else fail "scaling-summary.sh"; cat "$work/e2_scaling.tsv"; fi

expect_bad "multiplier not a positive integer" "token multiplier" "$work/runs/bad" -- \
  $P/scaling-run.sh "$HB" "$work/ff_d16.conf" 0.5 "$work/runs/bad" --data "$work/train.tok"
mkdir -p "$work/runs/e2/ff_d16/x3"
printf 'model_file = %s\ntokens = 300\n' "$work/ff_d16.conf" > "$work/runs/e2/ff_d16/x3/run.conf"
printf 'step\ttokens\tset\tmetric\tgroup\tvalue\tn\n' > "$work/runs/e2/ff_d16/x3/evals.tsv"
expect_bad "run without a LongPPL evaluation" "no longppl row" "$work/points2.tsv" -- \
  $P/scaling-points.sh "$HB" "$work/points2.tsv" "$work/runs/e2/ff_d16/x3"
sed -i 's/^tokens = .*/tokens = 301/' "$work/runs/e2/ff_d16/x3/run.conf"
expect_bad "budget not a multiple of the run's multiplier" "not a multiple" "$work/points2.tsv" -- \
  $P/scaling-points.sh "$HB" "$work/points2.tsv" "$work/runs/e2/ff_d16/x3"
finish
