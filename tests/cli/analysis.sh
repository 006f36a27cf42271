#!/usr/bin/env bash
# The mechanism analyses end to end on a tiny full-attention model trained for
# a second on one-hop facts in Markov text (4 keys x 4 values, T = 32):
#  - trace heads finds F heads whose retrieval score is far above the uniform
#    baseline (both printed);
#  - trace run traces the top heads over every checkpoint (Q/K distance 0 at
#    the final one); probe beats its shuffled-label control; grad-influence
#    gives one row per distance; eval --constrain F=T equals plain eval and
#    F=1 destroys retrieval;
#  - bad input: each one line naming the file or flag, exit 2, no output left.
set -euo pipefail
HB=${HB:-bin/hybench}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
. "$(dirname "$0")/lib/expect.sh"
die() { echo "FAIL $*"; exit 1; }

spec() { # seq_len extra lines
  printf 'name = t\nhaystack = markov\nseq_len = %s\nn_train = 4000\nn_val = 64\nvocab = 280\n' "$1"; shift
  printf 'onehop_keys = 4\nonehop_values = 4\np_fact = 0.1\np_query = 0.35\n'
  printf '%s\n' "$@"
}
spec 32 > "$work/train.conf"
spec 32 "niah = on" "niah_per_depth = 16" > "$work/niah.conf"
spec 64 "niah = on" "niah_per_depth = 2" > "$work/niah2t.conf"
$HB gen-data --spec "$work/train.conf" --split train --seed 1 --out "$work/train.tok" >/dev/null
$HB gen-data --spec "$work/niah.conf" --split test --seed 3 --out "$work/niah.tok" >/dev/null
$HB gen-data --spec "$work/niah2t.conf" --split test --seed 4 --out "$work/niah2t.tok" >/dev/null
model() { # name pattern
  printf 'name = %s\nvocab = 280\nd_model = 32\nn_heads = 2\nhead_dim = 16\nmlp_hidden = 64\npattern = %s\nwindow = 4\n' "$1" "$2"
}
model tf FF > "$work/ff.conf"
model ts SF > "$work/sf.conf"
$HB train --model "$work/ff.conf" --data "$work/train.tok" --seq-len 32 --batch 16 --tokens 150k --lr 3e-3 --warmup 20 \
  --loss-mask answers --ckpt-at 10k,50k,150k --threads 1 --out "$work/run" --quiet
final="$work/run/checkpoints/tok000000150016.safetensors"
[ -f "$final" ] || die "no final checkpoint: $(ls "$work/run/checkpoints")"

echo "trace heads on the trained FF model"
$HB trace heads --ckpt "$final" --niah "$work/niah.tok" --out "$work/heads.tsv" | tee "$work/heads.txt"
head -1 "$work/heads.tsv" | grep -q "^run	model	seed	tokens	layer	head	" || die "heads.tsv: identifying columns"
[ "$(tail -n +2 "$work/heads.tsv" | wc -l)" -eq 4 ] || die "heads.tsv: want 2 layers x 2 heads"
# the best head: score_needle (col 10) far above uniform_needle (col 12)
read -r score uniform <<<"$(awk -F'\t' '$16 == 1 {print $10, $12}' "$work/heads.tsv")"
awk -v s="$score" -v u="$uniform" 'BEGIN {exit !(s > 0.3 && s > 8 * u)}' ||
  die "top head score $score is not far above the uniform baseline $uniform"
echo "  top F head: retrieval score $score vs uniform baseline $uniform"

echo "trace run"
$HB trace run --run "$work/run" --niah "$work/niah.tok" --top-k 2 --out "$work/trace.tsv" 2>/dev/null >/dev/null
[ "$(tail -n +2 "$work/trace.tsv" | wc -l)" -eq 6 ] || die "trace.tsv: want 3 checkpoints x 2 heads"
awk -F'\t' 'NR > 1 && $4 == 150016 && ($14 != 0 || $15 != 0) {bad = 1} NR > 1 && $4 == 10240 && $14 <= 0 {bad = 1}
  END {exit bad}' "$work/trace.tsv" || die "trace.tsv: Q/K distance must be 0 at the final checkpoint, > 0 before"
awk -F'\t' 'NR > 1 {printf "  tokens %s layer %s head %s: score %.3f (uniform %.4f), entropy_norm %.3f, qk_rel_l2 %.3f\n",
  $4, $5, $6, $8, $10, $13, $15}' "$work/trace.tsv"

echo "probe"
$HB probe --ckpt "$final" --set "$work/niah.tok" --out "$work/probe.tsv" | tee "$work/probe.txt"
[ "$(tail -n +2 "$work/probe.tsv" | wc -l)" -eq 3 ] || die "probe.tsv: want layers 0, 1, 2"
awk -F'\t' 'NR > 1 && $5 == 2 {exit !($6 >= 0.8 && $8 <= 0.5)}' "$work/probe.tsv" ||
  die "probe: the final layer should predict the needle's class (>= 0.8) and the shuffled control should not"

$HB probe --run "$work/run" --set "$work/niah.tok" --out "$work/probe_run.tsv" > /dev/null
cmp -s "$work/probe.tsv" "$work/probe_run.tsv" || die "probe --run DIR differs from probe --ckpt <its final checkpoint>"
echo "  probe --run DIR = probe --ckpt <its final checkpoint>"

echo "grad-influence"
$HB trace grad-influence --ckpt "$final" --data "$work/niah.tok" --samples 16 --out "$work/infl.tsv"
[ "$(tail -n +2 "$work/infl.tsv" | wc -l)" -eq 32 ] || die "infl.tsv: want one row per distance 0..31"
awk -F'\t' 'NR > 1 && !($6 > 0) {exit 1}' "$work/infl.tsv" || die "infl.tsv: FF has influence at every distance"

echo "eval --constrain"
$HB eval --ckpt "$final" --set "$work/niah.tok" --far 4 --out "$work/plain.tsv"
$HB eval --ckpt "$final" --set "$work/niah.tok" --far 4 --constrain F=1,32 --out "$work/constrained.tsv" 2>/dev/null
head -1 "$work/constrained.tsv" | grep -q "^run	model	seed	tokens	ckpt	set	layers	r	metric	group	value	n$" ||
  die "constrained.tsv header"
plain=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["metric"] == "answer_acc" {print $c["value"]}' "$work/plain.tsv")
wide=$(awk -F'\t' '$8 == 32 && $9 == "answer_acc" {print $11}' "$work/constrained.tsv")
narrow=$(awk -F'\t' '$8 == 1 && $9 == "answer_acc" {print $11}' "$work/constrained.tsv")
[ "$plain" = "$wide" ] || die "F=32 (= T) gives answer_acc $wide, plain eval $plain"
awk -v n="$narrow" -v p="$plain" 'BEGIN {exit !(n < p / 2)}' || die "F=1 keeps answer_acc $narrow (plain $plain)"
echo "  NIAH answer accuracy: plain $plain, F limited to 32 keys $wide, to 1 key $narrow"

echo "bad input"
expect_bad "trace run: missing run directory" "run.conf: missing" "$work/o1" -- \
  $HB trace run --run "$work/nope" --niah "$work/niah.tok" --out "$work/o1"
expect_bad "trace heads: NIAH set longer than the training length" "--allow-extrapolation" "$work/o2" -- \
  $HB trace heads --ckpt "$final" --niah "$work/niah2t.tok" --out "$work/o2"
$HB trace heads --ckpt "$final" --niah "$work/niah2t.tok" --allow-extrapolation --out "$work/o2x" >/dev/null
[ -f "$work/o2x" ] || die "--allow-extrapolation did not write its table"
expect_bad "trace heads: a set without NIAH answers" "no answer of kind niah" "$work/o3" -- \
  $HB trace heads --ckpt "$final" --niah "$work/train.tok" --out "$work/o3"
expect_bad "probe: set longer than the training length" "longer than the 32 tokens" "$work/o4" -- \
  $HB probe --ckpt "$final" --set "$work/niah2t.tok" --out "$work/o4"
expect_bad "grad-influence: data longer than the training length" "longer than the 32 tokens" "$work/o5" -- \
  $HB trace grad-influence --ckpt "$final" --data "$work/niah2t.tok" --out "$work/o5"
expect_bad "eval --constrain: no layer of that kind" "has no layer of kind SLMG" "$work/o6" -- \
  $HB eval --ckpt "$final" --set "$work/niah.tok" --constrain E=4 --out "$work/o6"
expect_bad "eval --constrain: r = 0" "'0' is not a window" "$work/o7" -- \
  $HB eval --ckpt "$final" --set "$work/niah.tok" --constrain F=4,0 --out "$work/o7"
expect_bad "probe: bad --kind" "probe --kind" "$work/o8" -- \
  $HB probe --ckpt "$final" --set "$work/niah.tok" --kind kv --out "$work/o8"
expect_bad "trace: unknown analysis" "is not heads, run or grad-influence" "$work/o9" -- $HB trace attention
expect_bad "trace heads: bad --rank-kinds" "--rank-kinds" "$work/o10" -- \
  $HB trace heads --ckpt "$final" --niah "$work/niah.tok" --rank-kinds L --out "$work/o10"
# A checkpoint of another model (SF) inside the FF run: trace run and trace heads refuse it.
$HB train --model "$work/sf.conf" --data "$work/train.tok" --seq-len 32 --batch 4 --tokens 256 --ckpt-at 256 \
  --threads 1 --out "$work/other" --quiet
cp -r "$work/run" "$work/mixed"
cp "$work/other/checkpoints/tok000000000256.safetensors" "$work/mixed/checkpoints/tok000009999999.safetensors"
expect_bad "trace run: a checkpoint of another model" "a checkpoint of another model" "$work/o11" -- \
  $HB trace run --run "$work/mixed" --niah "$work/niah.tok" --out "$work/o11"
expect_bad "trace heads: a checkpoint of another model" "a checkpoint of another model" "$work/o12" -- \
  $HB trace heads --ckpt "$work/mixed/checkpoints/tok000009999999.safetensors" --niah "$work/niah.tok" --out "$work/o12"
model tv SF | sed 's/vocab = 280/vocab = 256/' > "$work/v256.conf"
$HB init --model "$work/v256.conf" --out "$work/v256.safetensors" >/dev/null
expect_bad "probe: a model of another vocabulary than the set" "vocab: the dataset needs vocab 280" "$work/o13" -- \
  $HB probe --ckpt "$work/v256.safetensors" --set "$work/niah.tok" --out "$work/o13"
# Far-only scores (issue 14): --min-distance keeps only the needles farther back.
$HB trace heads --ckpt "$final" --niah "$work/niah.tok" --min-distance 8 --out "$work/heads_far.tsv" >/dev/null
n_all=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["n_samples"]; exit }' "$work/heads.tsv")
n_far=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["n_samples"]; exit }' "$work/heads_far.tsv")
if [ "$n_far" -gt 0 ] && [ "$n_far" -lt "$n_all" ]; then pass "trace heads --min-distance 8: $n_far of $n_all samples"
else fail "trace heads --min-distance 8: $n_far of $n_all samples"; fi
expect_bad "trace heads: --min-distance beyond every needle" "none of its" "$work/o14" -- \
  $HB trace heads --ckpt "$final" --niah "$work/niah.tok" --min-distance 1000 --out "$work/o14"
expect_bad "trace heads: negative --min-distance" "--min-distance: -1 is outside" "$work/o15" -- \
  $HB trace heads --ckpt "$final" --niah "$work/niah.tok" --min-distance -1 --out "$work/o15"
finish
