#!/usr/bin/env bash
# The E2 scaling grid's pipeline (hybench scale-model, train --tokens-per-param,
# scripts/pipeline/), on tiny runs: the grid's model configs differ from their base in the size keys only,
# a grid of 3 widths x 3 budgets trains with train --tokens-per-param (N as
# `hybench run info` and `hybench init` count it), its points table has D =
# token_multiplier x n and the final LongPPL, the fit and summary come out;
# train --ckpt-every gives the profiles' schedule; `run info` describes a
# run; bad widths / multipliers / run directories give one line and exit 2
# without leaving a file.
# Run from the repo root: tests/cli/pipeline.sh (uses bin/hybench, or $HB).
set -euo pipefail
HB=${HB:-bin/hybench}
P=scripts/pipeline
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib/expect.sh"
[ -x "$HB" ] || { echo "no $HB (make bin/hybench)"; exit 1; }

# ---- model configs of the grid ------------------------------------------------
"$HB" scale-model --model models/sf_w64.conf --width 32 --out "$work/sf_w64_d32.conf"
"$HB" scale-model --model models/sf_w64.conf --width 64 --out "$work/sf_w64_d64.conf"
differ=$({ diff <(grep -v '^#' "$work/sf_w64_d64.conf") <(grep -v '^#' "$work/sf_w64_d32.conf") || true; } | grep '^>' | awk '{print $2}' | sort | tr '\n' ' ')
if [ "$differ" = "d_model mlp_hidden n_heads name " ] && grep -qx 'n_heads = 2' "$work/sf_w64_d32.conf" \
   && grep -qx 'mlp_hidden = 96' "$work/sf_w64_d32.conf" && grep -qx 'window = 64' "$work/sf_w64_d32.conf"; then
  pass "scale-model changes only name, d_model, n_heads, mlp_hidden"
else fail "scale-model changed: '$differ'"; fi
# At the base width the grid's model is the base model: every key of the base file (but
# its name) appears with the same value.
missing=$(grep -v '^#' models/sf_w64.conf | grep -v '^name' | grep -vxFf "$work/sf_w64_d64.conf" || true)
[ -z "$missing" ] && pass "scale-model at the base width keeps every key of the base config" \
  || fail "scale-model at width 64 lacks: $missing"
expect_bad "width not a multiple of 16" "multiple of 16" "$work/bad.conf" -- "$HB" scale-model --model models/ff.conf --width 24 --out "$work/bad.conf"
expect_bad "missing base config" "no_such.conf" "$work/bad.conf" -- "$HB" scale-model --model models/no_such.conf --width 32 --out "$work/bad.conf"

# ---- a tiny grid: 3 widths x 3 multipliers on a small Markov-filler dataset ----
printf 'name = t\nhaystack = markov\nseq_len = 32\nn_train = 2000\nn_val = 64\nvocab = 280\n' > "$work/spec.conf"
printf 'onehop_keys = 4\nonehop_values = 4\np_fact = 0.1\np_query = 0.35\n' >> "$work/spec.conf"
"$HB" gen-data --spec "$work/spec.conf" --split train --seed 1 --out "$work/train.tok" >/dev/null
"$HB" gen-data --spec "$work/spec.conf" --split val --seed 2 --out "$work/val.tok" >/dev/null
sed 's/^vocab = .*/vocab = 280/' models/ff.conf > "$work/ff.conf"
grid_run() { # WIDTH MULT [train options]: one grid run, as reproduce.mk trains it
  local w=$1 x=$2; shift 2
  "$HB" train --model "$work/ff_d$w.conf" --tokens-per-param $x --out "$work/runs/e2/ff_d$w/x$x" --seed 1 \
    --data "$work/train.tok" --seq-len 32 --batch 4 --eval-set "$work/val.tok" --eval-far 16 --threads 1 --quiet "$@"
}
parts=()
for w in 16 32 48; do
  "$HB" scale-model --model "$work/ff.conf" --width $w --out "$work/ff_d$w.conf"
  for x in 1 2 4; do
    grid_run $w $x > /dev/null
    $P/scaling-point.sh "$HB" "$work/runs/e2/ff_d$w/x$x" "$work/point_${w}_$x.tsv"
    parts+=("$work/point_${w}_$x.tsv")
  done
done
[ "$(ls "$work"/runs/e2/ff_d*/x*/done | wc -l)" = 9 ] && pass "train --tokens-per-param trained the 9 runs" || fail "grid: no done"
# N from the run directory's owner equals hybench init's count and the formula:
# 280 x 32 tied embedding + 2 layers x (4 x 32 x 32 attention + 3 x 32 x 96 SwiGLU + 2 x 32 norms) + 32 final norm
n=$("$HB" run info --run "$work/runs/e2/ff_d32/x4" | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["params"] }')
budget=$("$HB" run info --run "$work/runs/e2/ff_d32/x4" | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["tokens"] }')
init_n=$("$HB" init --model "$work/ff_d32.conf" --out "$work/i.safetensors" | sed 's/.*, \([0-9]*\) parameters/\1/')
[ "$n" = "$init_n" ] && [ "$n" = 35744 ] && [ "$budget" = $((4 * n)) ] \
  && pass "run info params $n = hybench init = the formula; budget = 4 x N = $budget" || fail "params $n, init $init_n, formula 35744, budget $budget"
# A finished run resumes as a no-op (make re-checks runs when the binary is rebuilt).
before=$(md5sum < "$work/runs/e2/ff_d16/x1/evals.tsv")
grid_run 16 1 --resume > /dev/null 2>&1
[ "$before" = "$(md5sum < "$work/runs/e2/ff_d16/x1/evals.tsv")" ] && pass "a finished grid run re-runs as a no-op" || fail "re-run changed evals.tsv"

$P/concat-tsv.sh "$work/points.tsv" "${parts[@]}"
bad=$(awk -F'\t' 'NR > 1 { m = $3; sub(/n$/, "", m); d = m * $4 - $5; if (d < 0) d = -d
                          if (NF != 8 || $1 != "ff" || d > 1 || $5 % 128 != 0 || !($6 >= 1)) print NR }' "$work/points.tsv" | wc -l)
rows=$(tail -n +2 "$work/points.tsv" | wc -l)
[ "$rows" = 9 ] && [ "$bad" = 0 ] && pass "scaling-point.sh: 9 rows, tokens = multiplier x n in whole steps, LongPPL >= 1" \
  || { fail "scaling-point.sh: $rows rows, $bad bad"; cat "$work/points.tsv"; }
last=$(awk -F'\t' '$4 == "longppl" && $5 == -1 { v = $6 } END { print v }' "$work/runs/e2/ff_d32/x4/evals.tsv")
got=$(awk -F'\t' '$2 == "d32" && $3 ~ /^4\./ { print $6 }' "$work/points.tsv")
[ -n "$last" ] && [ "$last" = "$got" ] && pass "points take the final LongPPL ($got)" || fail "points LongPPL $got, final eval $last"

"$HB" fit scaling --in "$work/points.tsv" --formula no_constant --longppl --validate --out "$work/e2_fit_ff.tsv" > /dev/null
$P/scaling-summary.sh "$work/e2_scaling.tsv" "$work/e2_fit_ff.tsv"
if awk -F'\t' 'NR == 2 && $1 == "ff" && $11 == 6 && $14 == 3 && $2 >= 0 && $10 > 0 { ok = 1 } END { exit !ok }' "$work/e2_scaling.tsv"; then
  pass "scaling-summary.sh: ff fitted on d16, d32 (6 points), validated on d48 (3 points)"
else fail "scaling-summary.sh"; cat "$work/e2_scaling.tsv"; fi

# ---- the checkpoint schedule of the profiles (train --ckpt-every) ----
"$HB" train --model "$work/ff_d16.conf" --tokens 4096 --ckpt-every 1024 --out "$work/runs/sched" --seed 1 \
  --data "$work/train.tok" --seq-len 32 --batch 4 --threads 1 --quiet > /dev/null
# 4096 x 10^(-k/4) for k = 8..1 (truncated), every 1024, the budget; sorted.
want="ckpt_at = 40,72,129,230,409,728,1024,1295,2048,2303,3072,4096"
got=$(grep '^ckpt_at' "$work/runs/sched/run.conf")
[ "$got" = "$want" ] && pass "train --ckpt-every: $got" || fail "train --ckpt-every: '$got', want '$want'"

# ---- run info ----
info=$("$HB" run info --run "$work/runs/sched")
col() { echo "$info" | awk -F'\t' -v col="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c[col] }'; }
final=$(ls "$work"/runs/sched/checkpoints/tok*[0-9].safetensors | sort | tail -1)
if [ "$(col model)" = ff_d16 ] && [ "$(col seed)" = 1 ] && [ "$(col done)" = 1 ] && [ "$(col efficient_layers)" = 0 ] \
   && [ "$(col final_ckpt)" = "$final" ] && [ "$(col final_tokens)" = 4096 ] && [ "$(col tokens)" = 4096 ]; then
  pass "run info: model, seed, done, final checkpoint $(basename "$final")"
else fail "run info: $info"; fi

expect_bad "tokens-per-param not an integer" "tokens-per-param" "$work/runs/bad" -- \
  "$HB" train --model "$work/ff_d16.conf" --tokens-per-param 0.5 --out "$work/runs/bad" --data "$work/train.tok"
expect_bad "both --tokens and --tokens-per-param" "exactly one of --tokens and --tokens-per-param" "$work/runs/bad" -- \
  "$HB" train --model "$work/ff_d16.conf" --tokens 1000 --tokens-per-param 2 --out "$work/runs/bad" --data "$work/train.tok"
expect_bad "ckpt-every with ckpt-at" "cannot be combined" "$work/runs/bad" -- \
  "$HB" train --model "$work/ff_d16.conf" --tokens 1000 --ckpt-every 100 --ckpt-at 500 --out "$work/runs/bad" --data "$work/train.tok"
expect_bad "run info: not a run directory" "run.conf: missing" "" -- "$HB" run info --run "$work"
cp -r "$work/runs/e2/ff_d16/x1" "$work/runs/e2/ff_d16/x3"
printf 'step\ttokens\tset\tmetric\tgroup\tvalue\tn\n' > "$work/runs/e2/ff_d16/x3/evals.tsv"
expect_bad "run without a LongPPL evaluation" "no longppl row" "$work/points2.tsv" -- \
  $P/scaling-point.sh "$HB" "$work/runs/e2/ff_d16/x3" "$work/points2.tsv"
sed -i 's/^seq_len = .*/seq_len = many/' "$work/runs/e2/ff_d16/x3/run.conf"
expect_bad "run.conf with a bad value" "run.conf:4: seq_len: 'many'" "" -- "$HB" run info --run "$work/runs/e2/ff_d16/x3"

# ---- a curriculum's later stage (train --init-from) ----
# It starts from another run's final weights: its step-0 evaluation equals that
# run's last one on the same set, value for value; run.conf and run info name
# the checkpoint; a resume keeps it; a checkpoint of another model config or a
# missing file is refused before the run directory exists.
. $P/lib.sh
src=$(run_fields "$HB" "$work/runs/e2/ff_d32/x4" final_ckpt)
stage2() { # OUT TOKENS [options]
  local out=$1 tokens=$2; shift 2
  "$HB" train --model "$work/ff_d32.conf" --init-from "$src" --tokens "$tokens" --out "$out" --seed 5 \
    --data "$work/train.tok" --seq-len 32 --batch 4 --eval-set "$work/val.tok" --eval-far 16 --threads 1 --quiet "$@"
}
stage2 "$work/runs/stage2" 2048 --ckpt-at 1024,2048 > /dev/null
last_of_source=$(awk -F'\t' 'NR > 1 { last = $1 } { row[NR] = $0; step[NR] = $1 } END { for (i = 2; i <= NR; i++) if (step[i] == last) print row[i] }' \
  "$work/runs/e2/ff_d32/x4/evals.tsv" | cut -f4-)
first_of_stage2=$(awk -F'\t' 'NR > 1 && $1 == 0' "$work/runs/stage2/evals.tsv" | cut -f4-)
[ -n "$first_of_stage2" ] && [ "$first_of_stage2" = "$last_of_source" ] \
  && pass "train --init-from: step-0 evaluation = the source run's last ($(echo "$first_of_stage2" | wc -l) rows)" \
  || fail "train --init-from: step-0 evaluation differs from the source's last"
info2=$(run_fields "$HB" "$work/runs/stage2" init_from)
grep -qxF "init_from = $src" "$work/runs/stage2/run.conf" && [ "$info2" = "$src" ] \
  && pass "train --init-from: run.conf and run info name the checkpoint" || fail "train --init-from: run.conf / run info say '$info2'"
"$HB" run info --run "$work/runs/sched" | grep -q $'\t-$' && pass "run info: init_from '-' for a run from its seed" \
  || fail "run info: init_from of a run from its seed is not '-'"
cp -r "$work/runs/stage2" "$work/runs/stage2b"
rm "$work/runs/stage2b/done" "$work/runs/stage2b/checkpoints/tok000000002048."*
stage2 "$work/runs/stage2b" 2048 --ckpt-at 1024,2048 --resume > /dev/null 2>&1
cmp -s "$work/runs/stage2/checkpoints/tok000000002048.safetensors" "$work/runs/stage2b/checkpoints/tok000000002048.safetensors" \
  && pass "train --init-from: resumed at 1024 tokens, the same final weights" || fail "train --init-from: resume changed the weights"
expect_bad "init-from: another model config" "__metadata__.config: differs" "$work/runs/bad" -- \
  "$HB" train --model "$work/ff_d16.conf" --init-from "$src" --tokens 1000 --out "$work/runs/bad" --data "$work/train.tok" --seq-len 32
expect_bad "init-from: no such checkpoint" "train --init-from: $work/none.safetensors: no such checkpoint" "$work/runs/bad" -- \
  "$HB" train --model "$work/ff_d32.conf" --init-from "$work/none.safetensors" --tokens 1000 --out "$work/runs/bad" --data "$work/train.tok"
finish
