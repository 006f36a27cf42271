#!/usr/bin/env bash
# hybench init / train / forward end to end: determinism, resume, signals.
#  - the same run twice gives identical metrics and identical checkpoint bytes;
#  - 2N steps straight and N steps + --resume N steps give identical metrics
#    rows (all columns but the timing ones, tokens_per_s and elapsed_s) and
#    identical final weights;
#  - SIGTERM mid-run writes a checkpoint, exits 143, and --resume finishes it
#    with the same final weights;
#  - kill -9 mid-run, then --resume from the last checkpoint on disk: metrics
#    and every checkpoint file byte-identical to an uninterrupted run;
#  - damaged checkpoints: --resume falls back past a truncated latest
#    checkpoint (and one with a flipped bit), says so, sets it aside as
#    .corrupt and ends identical to an uninterrupted run; it removes stale
#    temporaries of killed writers; a flipped bit is an exit-2 input error
#    naming the file and the tensor (engine and Python bridge).
set -euo pipefail
HB=${HB:-bin/hybench}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

cat > "$work/sf.conf" <<'CONF'
name = sf_small
vocab = 256
d_model = 32
n_heads = 2
head_dim = 16
mlp_hidden = 64
pattern = SF
window = 8
CONF
head -c 100000 /dev/urandom > "$work/noise.bin"
# Text-like data with structure, so the loss moves.
for i in $(seq 1 400); do echo "the quick brown fox $i jumps over the lazy dog $((i * 7 % 13))"; done > "$work/text.txt"
$HB tokens from-bytes --in "$work/text.txt" --out "$work/text.tok" >/dev/null

train() { # out_dir tokens [extra args]
  local out=$1 tokens=$2; shift 2
  $HB train --model "$work/sf.conf" --data "$work/text.tok" --seq-len 64 --batch 4 --tokens "$tokens" \
    --warmup 5 --lr 3e-3 --seed 3 --threads 2 --log-every 1 --ckpt-at 2048,4096 --out "$out" --quiet "$@"
}
deterministic_cols() { cut -f1-5 "$1/metrics.tsv"; }
final_ckpt() { ls "$1"/checkpoints/tok*[0-9].safetensors | sort | tail -1; }

echo "determinism: two identical runs"
train "$work/a" 8192
train "$work/b" 8192
cmp <(deterministic_cols "$work/a") <(deterministic_cols "$work/b")
cmp "$(final_ckpt "$work/a")" "$(final_ckpt "$work/b")"
[ -f "$work/a/done" ]
rows=$(($(wc -l < "$work/a/metrics.tsv") - 1))
[ "$rows" -eq 32 ] || { echo "expected 32 metric rows, got $rows"; exit 1; }
first=$(awk 'NR==2 {print $3}' "$work/a/metrics.tsv"); last=$(awk 'END {print $3}' "$work/a/metrics.tsv")
echo "  loss $first -> $last over 32 steps"
awk -v f="$first" -v l="$last" 'BEGIN { exit !(l < f - 0.5) }' || { echo "loss did not fall"; exit 1; }

echo "resume: a run cut back to its 16-step checkpoint, then --resume to 32"
train "$work/c" 8192 --ckpt-at 4096
# A shorter budget would be a different run (its LR schedule differs), so the
# interruption is emulated: drop everything after the 4096-token checkpoint.
rm -f "$work/c/done" "$work/c"/checkpoints/tok000000008192.*
$HB train --model "$work/sf.conf" --data "$work/text.tok" --seq-len 64 --batch 4 --tokens 8192 \
  --warmup 5 --lr 3e-3 --seed 3 --threads 2 --log-every 1 --ckpt-at 4096 --out "$work/c" --quiet --resume 2>&1 \
  | grep "resuming .* at step 16" > /dev/null
cmp <(deterministic_cols "$work/a") <(deterministic_cols "$work/c")
cmp <(tail -c +4096 "$(final_ckpt "$work/a")") <(tail -c +4096 "$(final_ckpt "$work/c")") \
  || { echo "resumed weights differ"; exit 1; }

echo "signal: SIGTERM writes a checkpoint, --resume completes the run with the same weights"
long_run() { # out_dir [extra]; call in a subshell: exec makes $! the trainer's own pid
  local out=$1; shift
  exec $HB train --model "$work/sf.conf" --data "$work/text.tok" --seq-len 64 --batch 4 --tokens 1000000 \
    --seed 3 --threads 2 --ckpt-at 1000000 --out "$out" --quiet "$@"
}
(long_run "$work/e")
(long_run "$work/d") &
pid=$!
sleep 0.5
kill -TERM $pid
status=0; wait $pid || status=$?
[ "$status" -eq 143 ] || { echo "expected exit 143 after SIGTERM, got $status"; exit 1; }
[ ! -f "$work/d/done" ] || { echo "an interrupted run must not be marked done"; exit 1; }
stopped=$(ls "$work/d"/checkpoints/*.optim.safetensors | head -1)
echo "  stopped with $(basename "$stopped")"
(long_run "$work/d" --resume 2>/dev/null)
[ -f "$work/d/done" ]
cmp <(deterministic_cols "$work/e") <(deterministic_cols "$work/d")
cmp <(tail -c +4096 "$(final_ckpt "$work/e")") <(tail -c +4096 "$(final_ckpt "$work/d")") \
  || { echo "weights after SIGTERM + resume differ"; exit 1; }

echo "kill -9: a run killed without warning resumes from its last checkpoint to the same bytes"
killable() { # out_dir [extra]; call in a subshell: exec makes $! the trainer's own pid
  local out=$1; shift
  exec $HB train --model "$work/sf.conf" --data "$work/text.tok" --seq-len 64 --batch 4 --tokens 409600 \
    --seed 5 --threads 2 --ckpt-at 25600,51200,102400,204800,409600 --out "$out" --quiet "$@"
}
(killable "$work/k_ref")
(killable "$work/k") &
pid=$!
# Kill once the first checkpoint is on disk and the run is past it.
for _ in $(seq 1 600); do [ -f "$work/k/checkpoints/tok000000025600.optim.safetensors" ] && break; sleep 0.05; done
sleep 0.2
kill -KILL $pid
status=0; wait $pid || status=$?
[ "$status" -eq 137 ] || { echo "expected exit 137 after SIGKILL, got $status"; exit 1; }
[ ! -f "$work/k/done" ] || { echo "a killed run must not be marked done"; exit 1; }
echo "  killed after $(ls "$work/k"/checkpoints/*.optim.safetensors | wc -l) checkpoint(s), $(($(wc -l < "$work/k/metrics.tsv") - 1)) metric rows"
(killable "$work/k" --resume 2>/dev/null)
[ -f "$work/k/done" ]
cmp <(deterministic_cols "$work/k_ref") <(deterministic_cols "$work/k") || { echo "metrics after kill -9 + resume differ"; exit 1; }
# safetensors: 8-byte little-endian header length, JSON header, tensor bytes.
tensor_bytes() { tail -c +$((9 + $(od -An -t u8 -N 8 "$1"))) "$1"; }
for ck in "$work/k_ref"/checkpoints/*.safetensors; do
  other="$work/k/checkpoints/$(basename "$ck")"
  case $ck in
    # The optimizer state's header records elapsed_s, the wall time: its tensors must match.
    *.optim.safetensors) cmp <(tensor_bytes "$ck") <(tensor_bytes "$other") ;;
    *) cmp "$ck" "$other" ;;
  esac || { echo "checkpoint $(basename "$ck") differs after kill -9 + resume"; exit 1; }
done
echo "  metrics, weight checkpoints (whole files) and optimizer tensors of all $(ls "$work/k_ref"/checkpoints/*.safetensors | wc -l) checkpoint files byte-identical"

echo "forward: logits shape and loss line"
ck=$(final_ckpt "$work/a")
/usr/bin/python3 -c "import numpy as np; np.save('$work/tok.npy', np.arange(2*64, dtype=np.int64).reshape(2, 64) % 256)"
out=$($HB forward --ckpt "$ck" --tokens "$work/tok.npy" --out "$work/logits.npy" --grads "$work/grads.safetensors")
echo "  $out"
[[ "$out" =~ ^loss\ [0-9.]+$ ]]
/usr/bin/python3 -c "
import numpy as np; x = np.load('$work/logits.npy'); assert x.shape == (2, 64, 256) and x.dtype == np.float32, x.shape
assert np.isfinite(x).all()"
echo "damaged checkpoints: resume falls back to the newest checkpoint that verifies"
ckdir="$work/f/checkpoints"
train "$work/f" 8192
# A run interrupted after its 4096-token checkpoint, whose optimizer file was cut short.
rm -f "$work/f/done" "$ckdir"/tok000000008192.*
latest="$ckdir/tok000000004096.optim.safetensors"
head -c $(($(stat -c %s "$latest") / 2)) "$latest" > "$work/half" && mv "$work/half" "$latest"
# Temporaries: a dead writer's (pid 99999999 exceeds any pid_max), a live one's (this shell), not a checkpoint's.
touch "$ckdir/tok000000004096.safetensors.tmp.99999999" "$ckdir/tok000000002048.optim.safetensors.tmp.$$" \
  "$ckdir/notes.tmp.1"
train "$work/f" 8192 --resume 2> "$work/f.err"
grep -q "tok000000004096.optim.safetensors: .*resume falls back to the newest earlier checkpoint" "$work/f.err" &&
  grep -q "resuming .* at step 8 (2048 tokens)" "$work/f.err" ||
  { echo "no fallback to the 2048-token checkpoint:"; cat "$work/f.err"; exit 1; }
echo "  $(grep -m1 "falls back" "$work/f.err" | cut -c1-150)..."
[ -f "$latest.corrupt" ] || { echo "the damaged checkpoint was not set aside as .corrupt"; exit 1; }
[ ! -e "$ckdir/tok000000004096.safetensors.tmp.99999999" ] && [ -e "$ckdir/tok000000002048.optim.safetensors.tmp.$$" ] &&
  [ -e "$ckdir/notes.tmp.1" ] && grep -q "removed 1 stale temporary" "$work/f.err" ||
  { echo "stale temporaries: wrong files removed: $(ls "$ckdir")"; exit 1; }
rm "$ckdir/tok000000002048.optim.safetensors.tmp.$$" "$ckdir/notes.tmp.1"
same_as_a() { # what: the resumed run f equals the uninterrupted run a
  cmp <(deterministic_cols "$work/a") <(deterministic_cols "$work/f") || { echo "metrics differ after $1"; exit 1; }
  for ck in "$work"/a/checkpoints/tok*[0-9].safetensors; do # weights files record no timing: whole files
    cmp "$ck" "$ckdir/$(basename "$ck")" || { echo "$(basename "$ck") differs after $1"; exit 1; }
  done
  cmp <(tensor_bytes "$work/a/checkpoints/tok000000008192.optim.safetensors") \
    <(tensor_bytes "$ckdir/tok000000008192.optim.safetensors") || { echo "optimizer state differs after $1"; exit 1; }
}
same_as_a "a fallback past a truncated checkpoint"
# flip_bit FILE BYTE: flips bit 2 of data byte BYTE; prints the tensor that holds it.
flip_bit() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, struct, sys
path, at = sys.argv[1], int(sys.argv[2])
raw = bytearray(open(path, "rb").read())
n, = struct.unpack("<Q", raw[:8])
raw[8 + n + at] ^= 4
open(path, "wb").write(raw)
header = json.loads(raw[8:8 + n])
print(next(k for k, v in header.items() if k != "__metadata__" and v["data_offsets"][0] <= at < v["data_offsets"][1]))
PY
}
rm -f "$work/f/done" "$ckdir"/tok000000008192.* "$latest.corrupt"
flip_bit "$ckdir/tok000000004096.safetensors" 3001 > /dev/null
train "$work/f" 8192 --resume 2> "$work/f.err"
grep -q "tok000000004096.safetensors: tensor .*: data damaged: .*resume falls back" "$work/f.err" &&
  grep -q "resuming .* at step 8 (2048 tokens)" "$work/f.err" ||
  { echo "no fallback past a flipped bit:"; cat "$work/f.err"; exit 1; }
same_as_a "a fallback past a flipped bit"

echo "damaged checkpoints: a flipped bit is an input error naming the file and the tensor"
cp "$(final_ckpt "$work/a")" "$work/flipped.safetensors"
tensor=$(flip_bit "$work/flipped.safetensors" 1001)
status=0
$HB forward --ckpt "$work/flipped.safetensors" --tokens "$work/tok.npy" --out "$work/flipped.npy" 2> "$work/flip.err" ||
  status=$?
[ "$status" -eq 2 ] && [ "$(wc -l < "$work/flip.err")" -eq 1 ] && [ ! -e "$work/flipped.npy" ] &&
  grep -q "^hybench: $work/flipped.safetensors: tensor $tensor: data damaged" "$work/flip.err" ||
  { echo "flipped bit: exit $status, $(cat "$work/flip.err")"; exit 1; }
echo "  $(cut -c1-150 "$work/flip.err")..."
PYTHONPATH=python /usr/bin/python3 -c "
import sys, hybench
try:
    hybench.read_safetensors(sys.argv[1])
except hybench.FormatError as e:
    assert 'tensor $tensor: data damaged' in str(e), e
    sys.exit(0)
sys.exit('the Python bridge read a damaged file')" "$work/flipped.safetensors"
echo "ok"
