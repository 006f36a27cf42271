#!/usr/bin/env bash
# gen-data, train on a dataset with a loss mask, eval: end to end on a small
# Markov-haystack task; and bad dataset specs, each one line naming the file
# and field, exit 2, no output left behind.
set -euo pipefail
HB=${HB:-bin/hybench}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib/expect.sh"

spec() { # extra lines
  printf 'name = t\nhaystack = markov\nseq_len = 64\nn_train = 400\nn_val = 64\nvocab = 314\n'
  printf 'onehop_keys = 4\nonehop_values = 4\nkv_density = 8\ndist_min = 6\ndist_max = 40\n'
  printf '%s\n' "$@"
}
spec > "$work/good.conf"
spec "colour = blue" > "$work/unknown.conf"
expect_bad "spec: unknown key" "unknown.conf:12: colour: unknown key" "$work/o1" -- \
  $HB gen-data --spec "$work/unknown.conf" --out "$work/o1"
spec | sed 's/dist_max = 40/dist_max = 90/' > "$work/far.conf"
expect_bad "spec: distance larger than the context" "dist_max" "$work/o2" -- $HB gen-data --spec "$work/far.conf" --out "$work/o2"
spec | sed 's/kv_density = 8/kv_density = 120/' > "$work/dense.conf"
expect_bad "spec: density too high to place" "kv_density" "$work/o3" -- $HB gen-data --spec "$work/dense.conf" --out "$work/o3"
spec | sed 's/vocab = 314/vocab = 300/' > "$work/vocab.conf"
expect_bad "spec: vocab that does not match" "vocab: 300, but the spec's tokens need exactly 314" "$work/o4" -- \
  $HB gen-data --spec "$work/vocab.conf" --out "$work/o4"
printf 'name = k\nhaystack = kjv\nseq_len = 64\nvocab = 256\n' > "$work/kjv.conf"
expect_bad "spec: missing haystack package" "haystack: kjv needs the Debian package bible-kjv" "$work/o5" -- \
  env HB_BIBLE=/nonexistent/bible $HB gen-data --spec "$work/kjv.conf" --out "$work/o5"
expect_bad "gen-data: bad split" "--split" "$work/o6" -- $HB gen-data --spec "$work/good.conf" --split dev --out "$work/o6"

echo "end to end: gen-data -> train (answers mask) -> eval"
$HB gen-data --spec "$work/good.conf" --split train --seed 1 --out "$work/train.tok" >/dev/null
$HB gen-data --spec "$work/good.conf" --split val --seed 2 --out "$work/val.tok" >/dev/null
cat > "$work/m.conf" <<'CONF'
name = m
vocab = 314
d_model = 32
n_heads = 2
head_dim = 16
mlp_hidden = 64
pattern = SF
window = 4
CONF
sed 's/vocab = 314/vocab = 256/' "$work/m.conf" > "$work/m256.conf"
expect_bad "train: model vocab differs from the dataset's" "vocab: the dataset needs vocab 314, the model has 256" "$work/r0/done" -- \
  $HB train --model "$work/m256.conf" --data "$work/train.tok" --seq-len 64 --tokens 1000 --out "$work/r0" --quiet
expect_bad "train: seq-len differs from the dataset's" "--seq-len" "$work/r1/done" -- \
  $HB train --model "$work/m.conf" --data "$work/train.tok" --seq-len 32 --tokens 1000 --out "$work/r1" --quiet
$HB train --model "$work/m.conf" --data "$work/train.tok" --seq-len 64 --batch 8 --tokens 20000 --loss-mask answers \
  --eval-set "$work/val.tok" --eval-every 10000 --eval-far 8 --threads 1 --out "$work/run" --quiet
grep -q "loss_mask = answers" "$work/run/run.conf"
rows=$(awk -F'\t' '$4 == "far_acc"' "$work/run/evals.tsv" | wc -l)
[ "$rows" -ge 3 ] || { echo "expected evaluations at 0, 10k, 20k tokens; got $rows far_acc rows"; exit 1; }
ck=$(ls "$work"/run/checkpoints/tok*[0-9].safetensors | sort | tail -1)
$HB eval --ckpt "$ck" --set "$work/val.tok" --far 8 --out "$work/eval.tsv"
head -1 "$work/eval.tsv" | grep -q "^run	model	seed	tokens	ckpt	set	seq_len	metric	group	value	n$" ||
  { echo "eval.tsv header: $(head -1 "$work/eval.tsv")"; exit 1; }
# column NAME [WHERE]: the cells of column NAME of a TSV on stdin (rows where the awk condition WHERE holds).
column() { awk -F'\t' -v col="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } '"${2:-1}"' { print $c[col] }'; }
[ "$(column run < "$work/eval.tsv" | sort -u)" = "$work/run" ] && [ "$(column seq_len < "$work/eval.tsv" | sort -u)" = 64 ] \
  && pass "eval: rows name the run ($(column model < "$work/eval.tsv" | sort -u), seed $(column seed < "$work/eval.tsv" | sort -u)) and the set's length" \
  || fail "eval: run/seq_len columns: $(sed -n 2p "$work/eval.tsv")"
$HB eval --run "$work/run" --set "$work/val.tok" --far 8 --out "$work/eval_run.tsv"
cmp -s "$work/eval.tsv" "$work/eval_run.tsv" && pass "eval --run DIR = eval --ckpt <its final checkpoint>" || fail "eval --run differs from --ckpt final"
expect_bad "eval: both --ckpt and --run" "exactly one of --ckpt F and --run DIR" "$work/both.tsv" -- \
  $HB eval --ckpt "$ck" --run "$work/run" --set "$work/val.tok" --out "$work/both.tsv"
expect_bad "eval: --run of a directory that holds no run" "run.conf: missing" "$work/norun.tsv" -- \
  $HB eval --run "$work" --set "$work/val.tok" --out "$work/norun.tsv"
for metric in short_loss longppl far_acc near_acc acc_dist; do
  grep -q "	$metric	" "$work/eval.tsv" || { echo "eval.tsv lacks $metric"; exit 1; }
done
# The last evaluation during training and the standalone eval agree.
a=$(awk -F'\t' '$4 == "far_acc" {v = $6} END {print v}' "$work/run/evals.tsv")
b=$(column value '$c["metric"] == "far_acc"' < "$work/eval.tsv")
[ "$a" = "$b" ] || { echo "far_acc during training $a, standalone eval $b"; exit 1; }
pass "end to end: far_acc $a (training and standalone agree)"
# LSD LongPPL: with a short context as long as the sequence, short and full
# context are the same, so no token can be a key.
$HB eval --ckpt "$ck" --set "$work/val.tok" --evaluator "$ck" --lsd-context 64 --out "$work/lsd.tsv"
frac=$(column value '$c["metric"] == "lsd_key_fraction"' < "$work/lsd.tsv")
[ "$frac" = "0" ] && pass "LSD: K = T finds no key tokens" || fail "LSD: K = T gives key fraction '$frac'"
$HB eval --ckpt "$ck" --set "$work/val.tok" --evaluator "$ck" --lsd-context 4 --out "$work/lsd4.tsv"
grep -q "	lsd_longppl	4	" "$work/lsd4.tsv" && pass "LSD: rows for K = 4" || fail "LSD: no lsd_longppl row for K = 4"
# Nearest copy (issue 14): far by the nearest copy is a subset of far by the
# fact's distance; a bad --distance is one line, exit 2, no output file.
far_n='$c["metric"] == "far_acc" && $c["group"] == -1'
n_ev=$($HB eval --ckpt "$ck" --set "$work/val.tok" --far 8 | column n "$far_n")
n_near=$($HB eval --ckpt "$ck" --set "$work/val.tok" --far 8 --distance nearest | column n "$far_n")
if [ -n "$n_ev" ] && [ -n "$n_near" ] && [ "$n_near" -le "$n_ev" ]; then pass "eval --distance nearest: $n_near far answers of $n_ev by evidence"
else fail "eval --distance nearest: '$n_near' far answers vs '$n_ev' by evidence"; fi
expect_bad "eval: unknown --distance" "eval --distance: 'closest' is not evidence or nearest" "$work/dist.tsv" -- \
  $HB eval --ckpt "$ck" --set "$work/val.tok" --distance closest --out "$work/dist.tsv"

finish
