#!/usr/bin/env bash
# Bad input to the engine's commands: each case must print exactly ONE line on
# stderr naming the file (and field or tensor), exit with code 2, and leave no
# output file (final or temporary) behind.
set -euo pipefail
HB=${HB:-bin/hybench}
PY=/usr/bin/python3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib/expect.sh"

good_conf() {
  cat <<'CONF'
name = tiny
vocab = 32
d_model = 16
n_heads = 2
head_dim = 8
mlp_hidden = 32
pattern = SF
window = 4
CONF
}
good_conf > "$work/good.conf"

# --- model configs ---
{ good_conf; echo "windw = 4"; } > "$work/unknown.conf"
expect_bad "config: unknown key" "unknown.conf:9: windw: unknown key" "$work/o1" -- \
  $HB init --model "$work/unknown.conf" --out "$work/o1"
good_conf | sed 's/^d_model = 16/d_model = 1x6/' > "$work/badnum.conf"
expect_bad "config: bad number" "badnum.conf:3: d_model" "$work/o2" -- $HB init --model "$work/badnum.conf" --out "$work/o2"
good_conf | sed 's/^head_dim = 8/head_dim = 7/' > "$work/odd.conf"
expect_bad "config: inconsistent dims (odd head_dim for RoPE)" "head_dim" "$work/o3" -- \
  $HB init --model "$work/odd.conf" --out "$work/o3"
good_conf | sed 's/^window = 4/window = 0/' > "$work/nowin.conf"
expect_bad "config: S layers without a window" "window" "$work/o4" -- $HB init --model "$work/nowin.conf" --out "$work/o4"
good_conf | sed 's/^pattern = SF/pattern = SXF/' > "$work/letter.conf"
expect_bad "config: unknown layer letter" "pattern" "$work/o5" -- $HB init --model "$work/letter.conf" --out "$work/o5"
good_conf | grep -v '^vocab' > "$work/missing.conf"
expect_bad "config: missing key" "vocab: missing required key" "$work/o6" -- \
  $HB init --model "$work/missing.conf" --out "$work/o6"
# Size bounds (issue 17): each would overflow a size computation or ask for
# an impossible allocation; config validation must name the key.
big_conf() { # KEY VALUE [PATTERN]: the good config with one key set
  good_conf | sed "s/^pattern = SF/pattern = ${3:-SF}/" | grep -v "^$1 " ; echo "$1 = $2"
}
big_conf vocab 1073741824 > "$work/big_vocab.conf"
expect_bad "config: vocab 2^30" "vocab" "$work/o8" -- $HB init --model "$work/big_vocab.conf" --out "$work/o8"
big_conf d_model 1073741824 > "$work/big_dmodel.conf"
expect_bad "config: d_model 2^30" "d_model" "$work/o9" -- $HB init --model "$work/big_dmodel.conf" --out "$work/o9"
big_conf mlp_hidden 1073741824 > "$work/big_mlp.conf"
expect_bad "config: mlp_hidden 2^30" "mlp_hidden" "$work/o10" -- $HB init --model "$work/big_mlp.conf" --out "$work/o10"
big_conf expand 1073741824 MF > "$work/big_expand.conf"
expect_bad "config: pattern MF with expand 2^30" "expand" "$work/o11" -- \
  $HB init --model "$work/big_expand.conf" --out "$work/o11"
big_conf state_size 1073741824 MF > "$work/big_state.conf"
expect_bad "config: state_size 2^30" "state_size" "$work/o12" -- $HB init --model "$work/big_state.conf" --out "$work/o12"
expect_bad "config: missing file" "nothere.conf" "$work/o7" -- $HB init --model "$work/nothere.conf" --out "$work/o7"

# --- checkpoints ---
$HB init --model "$work/good.conf" --seed 1 --out "$work/good.safetensors" >/dev/null
$PY -c "import numpy as np; np.save('$work/tok.npy', np.zeros((1, 8), dtype=np.int64))"
mutate() { # mode out: rewrite the good checkpoint with one defect
  $PY - "$work/good.safetensors" "$2" "$1" <<'PY'
import json, struct, sys
src, dst, mode = sys.argv[1:]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n]); data = raw[8 + n:]
def write(h, d):
    js = json.dumps(h).encode(); js += b" " * (-len(js) % 8)
    open(dst, "wb").write(struct.pack("<Q", len(js)) + js + d)
if mode == "truncated":
    open(dst, "wb").write(raw[: len(raw) - 100])
elif mode == "header_len":
    open(dst, "wb").write(struct.pack("<Q", len(raw) * 4) + raw[8:])
elif mode == "dtype":
    header["norm_f.weight"]["dtype"] = "F16"; write(header, data)
elif mode == "shape":
    e = header["layers.0.mlp.up_proj.weight"]; e["shape"] = [e["shape"][1], e["shape"][0]]; write(header, data)
elif mode == "missing":
    # Drop a tensor and its bytes, shifting the later offsets.
    name = "layers.1.attn.k_proj.weight"; b, e = header[name]["data_offsets"]; del header[name]
    for k, v in header.items():
        if k != "__metadata__" and v["data_offsets"][0] >= e:
            v["data_offsets"] = [v["data_offsets"][0] - (e - b), v["data_offsets"][1] - (e - b)]
    write(header, data[:b] + data[e:])
elif mode == "meta_vocab":
    meta = header["__metadata__"]; meta["config"] = meta["config"].replace("vocab = 32", "vocab = 1073741824")
    write(header, data)
PY
}
for mode in truncated header_len dtype shape missing meta_vocab; do mutate $mode "$work/$mode.safetensors"; done
expect_bad "checkpoint: truncated" "truncated.safetensors" "$work/l1" -- \
  $HB forward --ckpt "$work/truncated.safetensors" --tokens "$work/tok.npy" --out "$work/l1"
expect_bad "checkpoint: header length beyond the file" "header_len.safetensors" "$work/l2" -- \
  $HB forward --ckpt "$work/header_len.safetensors" --tokens "$work/tok.npy" --out "$work/l2"
expect_bad "checkpoint: wrong dtype" "norm_f.weight" "$work/l3" -- \
  $HB forward --ckpt "$work/dtype.safetensors" --tokens "$work/tok.npy" --out "$work/l3"
expect_bad "checkpoint: wrong shape" "layers.0.mlp.up_proj.weight" "$work/l4" -- \
  $HB forward --ckpt "$work/shape.safetensors" --tokens "$work/tok.npy" --out "$work/l4"
expect_bad "checkpoint: missing tensor" "layers.1.attn.k_proj.weight" "$work/l5" -- \
  $HB forward --ckpt "$work/missing.safetensors" --tokens "$work/tok.npy" --out "$work/l5"
expect_bad "checkpoint: metadata config with vocab 2^30" "vocab" "$work/l8" -- \
  $HB forward --ckpt "$work/meta_vocab.safetensors" --tokens "$work/tok.npy" --out "$work/l8"
expect_bad "checkpoint: missing file" "absent.safetensors" "$work/l6" -- \
  $HB forward --ckpt "$work/absent.safetensors" --tokens "$work/tok.npy" --out "$work/l6"

# --- tokens ---
$PY -c "import numpy as np; np.save('$work/big.npy', np.full((1, 8), 40, dtype=np.int32))"
expect_bad "forward: token id >= vocab" "big.npy" "$work/l7" -- \
  $HB forward --ckpt "$work/good.safetensors" --tokens "$work/big.npy" --out "$work/l7"
printf 'hello world, plain bytes' > "$work/text.txt"
$HB tokens from-bytes --in "$work/text.txt" --out "$work/text.tok" >/dev/null
$PY -c "import numpy as np; np.save('$work/one_col.npy', np.zeros((2, 1), dtype=np.int64))"
expect_bad "forward: a (2, 1) batch has no next token" "one_col.npy" "$work/l9" -- \
  $HB forward --ckpt "$work/good.safetensors" --tokens "$work/one_col.npy" --out "$work/l9"
expect_bad "train: token file with ids >= the model's vocab" "text.tok" "$work/run1/done" -- \
  $HB train --model "$work/good.conf" --data "$work/text.tok" --tokens 1000 --out "$work/run1" --quiet

# --- flags ---
expect_bad "flag: unknown option" "--bogus" "" -- $HB train --bogus 1
expect_bad "flag: bad number" "--seq-len" "" -- \
  $HB train --model "$work/good.conf" --data "$work/text.tok" --tokens 1000 --out "$work/run2" --seq-len 12x
expect_bad "flag: missing required" "--out" "" -- $HB init --model "$work/good.conf"
train_flag() { # DESCRIPTION NEEDLE FLAG VALUE: a valid train command with one bad flag
  expect_bad "$1" "$2" "$work/run3/done" -- \
    $HB train --model "$work/good.conf" --data "$work/text.tok" --tokens 1000 --out "$work/run3" --quiet "$3" "$4"
}
train_flag "flag: --beta1 1.5" "--beta1" --beta1 1.5
train_flag "flag: --beta2 1 (divides by zero in the bias correction)" "--beta2" --beta2 1
train_flag "flag: --beta2 -0.1" "--beta2" --beta2 -0.1
train_flag "flag: --weight-decay -5" "--weight-decay" --weight-decay -5
train_flag "flag: --clip -1" "--clip" --clip -1
train_flag "flag: --lr-min -1" "--lr-min" --lr-min -1
expect_bad "flag: empty item in --constrain F=4,,8" "empty item" "$work/c1" -- \
  $HB eval --ckpt "$work/good.safetensors" --set "$work/text.tok" --constrain F=4,,8 --out "$work/c1"

# --- dataset specs ---
good_spec() {
  cat <<'SPEC'
name = tiny_iid
haystack = iid
seq_len = 64
n_train = 100
vocab = 256
SPEC
}
bad_spec() { # DESCRIPTION NEEDLE then `key = value` lines replacing the good spec's
  local what=$1 needle=$2; shift 2
  { good_spec | grep -v -E "^($(printf '%s\n' "$@" | cut -d' ' -f1 | paste -sd'|')) "; printf '%s\n' "$@"; } > "$work/spec.conf"
  expect_bad "$what" "$needle" "$work/d1" -- $HB gen-data --spec "$work/spec.conf" --split train --out "$work/d1"
}
good_spec > "$work/good_spec.conf"
$HB gen-data --spec "$work/good_spec.conf" --split val --out "$work/good_spec.tok" >/dev/null 2>&1 ||
  fail "spec: the good spec generates"
bad_spec "spec: n_train 1e12" "n_train" "n_train = 1e12"
bad_spec "spec: seq_len 2^20" "seq_len" "seq_len = 1048576"
bad_spec "spec: onehop_keys = onehop_values = 65536" "onehop_values" "onehop_keys = 65536" "onehop_values = 65536" \
  "vocab = 256"
bad_spec "spec: repeat_len longer than a sequence" "repeat_len" "repeat_density = 1" "repeat_len = 1073741824" \
  "dist_min = 10" "dist_max = 20" "vocab = 272"

finish
