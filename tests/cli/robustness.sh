#!/usr/bin/env bash
# Run robustness (issue 17): a run that blows up stops with exit 3, keeps the
# checkpoints before it, writes DIR/diverged instead of DIR/done, and a later
# --resume exits 3 at once; `run info` says diverged. Progress reaches a log
# that is not a terminal: plain lines every --progress-every seconds and one
# summary line; a healthy run is unchanged by the checks (same metrics and
# checkpoints as with the checks never firing is shown by the reproduction's
# bit-identical tables).
# Run from the repo root: tests/cli/robustness.sh (uses bin/hybench, or $HB).
set -euo pipefail
HB=${HB:-bin/hybench}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib/expect.sh"
[ -x "$HB" ] || { echo "no $HB (make bin/hybench)"; exit 1; }

printf 'name = t\nhaystack = markov\nseq_len = 32\nn_train = 500\nn_val = 32\nvocab = 280\n' > "$work/spec.conf"
printf 'onehop_keys = 4\nonehop_values = 4\np_fact = 0.1\np_query = 0.35\n' >> "$work/spec.conf"
"$HB" gen-data --spec "$work/spec.conf" --split train --seed 1 --out "$work/train.tok" > /dev/null
"$HB" gen-data --spec "$work/spec.conf" --split val --seed 2 --out "$work/val.tok" > /dev/null
sed 's/^vocab = .*/vocab = 280/' models/sf_w8.conf > "$work/m.conf"
train() { # DIR [options]
  local dir=$1; shift
  "$HB" train --model "$work/m.conf" --data "$work/train.tok" --seq-len 32 --batch 4 --eval-set "$work/val.tok" \
    --eval-every 2048 --threads 1 --out "$work/$dir" "$@"
}
info() { # DIR COLUMN
  "$HB" run info --run "$work/$1" | awk -F'\t' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c[col] }'
}

# ---- divergence: a learning rate of 1000 blows the loss past 1000 nats ----
status=0
train lr1000 --tokens 20000 --lr 1000 --ckpt-at 128,20000 2> "$work/lr1000.log" || status=$?
if [ "$status" = 3 ] && [ -f "$work/lr1000/diverged" ] && [ ! -f "$work/lr1000/done" ] \
   && grep -q "diverged at step" "$work/lr1000.log" && grep -q '^reason = ' "$work/lr1000/diverged"; then
  pass "lr 1000: exit 3, $(grep -o 'diverged at step [0-9]*' "$work/lr1000.log" | head -1), DIR/diverged, no done"
else fail "lr 1000: exit $status"; cat "$work/lr1000.log"; fi
ckpts=$(ls "$work"/lr1000/checkpoints/tok*[0-9].safetensors 2>/dev/null | wc -l)
if [ "$ckpts" = 1 ] && "$HB" eval --run "$work/lr1000" --set "$work/val.tok" --out "$work/e.tsv" \
   && ! grep -qiE '\bnan\b|inf' <(awk -F'\t' 'NR > 1 && $8 == "short_loss" { print $10 }' "$work/e.tsv"); then
  pass "lr 1000: the checkpoint before the divergence (128 tokens) stays and evaluates finite"
else fail "lr 1000: $ckpts checkpoints"; fi
status=0
start=$(date +%s.%N)
train lr1000 --tokens 20000 --lr 1000 --ckpt-at 128,20000 --resume 2> "$work/resume.log" || status=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
if [ "$status" = 3 ] && grep -q "not trained again" "$work/resume.log"; then
  pass "--resume of a diverged run: exit 3 in ${took} s without training"
else fail "--resume of a diverged run: exit $status"; cat "$work/resume.log"; fi
[ "$(info lr1000 diverged)" = 1 ] && [ "$(info lr1000 done)" = 0 ] && pass "run info: diverged 1, done 0" \
  || fail "run info: diverged $(info lr1000 diverged), done $(info lr1000 done)"

scripts/pipeline/run-status.sh "$HB" "$work/lr1000" "$work/status.tsv" run model seed done diverged
[ "$(sed -n 2p "$work/status.tsv" | cut -f4,5)" = $'0\t1' ] && pass "runs.tsv row of the diverged run: done 0, diverged 1" \
  || { fail "run-status.sh row"; cat "$work/status.tsv"; }

# ---- progress in a log that is not a terminal ----
train healthy --tokens 16384 --progress-every 0.001 2> "$work/healthy.log"
lines=$(grep -c '^step [0-9]*/[0-9]*  tokens .*tok/s  ETA ' "$work/healthy.log" || true)
if [ "$lines" -ge 3 ] && ! grep -q $'\r' "$work/healthy.log" && [ -f "$work/healthy/done" ] \
   && tail -1 "$work/healthy.log" | grep -q "healthy: done at step 128 (16384 tokens), last loss .* tok/s training"; then
  pass "progress off a terminal: $lines plain lines, no carriage returns, summary: $(tail -1 "$work/healthy.log" | cut -c1-60)..."
else fail "progress: $lines lines"; cat "$work/healthy.log"; fi
train quiet --tokens 4096 --progress-every 0 2> "$work/quiet.log"
[ "$(wc -l < "$work/quiet.log")" = 1 ] && pass "--progress-every 0: only the summary line" || { fail "--progress-every 0"; cat "$work/quiet.log"; }
expect_bad "empty item in --ckpt-at" "'100,,200' has an empty item" "$work/ck" -- train ck --tokens 4096 --ckpt-at 100,,200
expect_bad "negative --progress-every" "train --progress-every" "$work/neg" -- train neg --tokens 4096 --progress-every -1
finish
