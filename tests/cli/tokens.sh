#!/usr/bin/env bash
# `hybench tokens` end to end, run from the repo root (as `make test` does):
# bytes -> .tok -> .npy with values checked in NumPy, .npy -> .tok, then every
# kind of bad input. A bad input must exit 2 with exactly one stderr line naming the file
# (or option) and field, and leave neither the output nor a temporary file.
# HYBENCH overrides the binary (default bin/hybench).
set -euo pipefail

HYBENCH=${HYBENCH:-bin/hybench}
PYTHON=/usr/bin/python3
[ -x "$HYBENCH" ] || { echo "FAIL: $HYBENCH not built" >&2; exit 1; }
tmp=$(mktemp -d /tmp/hb_cli_tokens.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
checks=0

fail() { echo "FAIL: $*" >&2; exit 1; }

# no_leftovers OUT: neither OUT nor any hb_out_open temporary exists.
no_leftovers() {
  [ ! -e "$1" ] || fail "output $1 was left behind"
  if compgen -G "$tmp/*.tmp.*" >/dev/null; then fail "temporary file left: $(ls "$tmp"/*.tmp.*)"; fi
}

# expect_input_error OUT NEEDLE CMD...: CMD exits 2 with one stderr line
# containing NEEDLE, and leaves no OUT.
expect_input_error() {
  local out=$1 needle=$2 rc=0
  shift 2
  "$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
  [ "$rc" -eq 2 ] || fail "'$*' exited $rc, expected 2; stderr: $(cat "$tmp/stderr")"
  [ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "'$*' wrote $(wc -l <"$tmp/stderr") stderr lines, expected 1:
$(cat "$tmp/stderr")"
  grep -qF -- "$needle" "$tmp/stderr" || fail "'$*': stderr '$(cat "$tmp/stderr")' lacks '$needle'"
  no_leftovers "$out"
  checks=$((checks + 1))
}

# info_value FILE KEY: the value of "KEY = value" in `tokens info`.
info_value() { "$HYBENCH" tokens info --in "$1" | awk -v k="$2" '$1 == k { print $3 }'; }

# make_npy OUT DESCR SHAPE DATA: a version 1.0 .npy with the header NumPy
# writes (padded so the data starts at a multiple of 64 bytes) and DATA as
# printf escapes.
make_npy() {
  local header="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  local pad=$(((64 - (10 + ${#header} + 1) % 64) % 64)) len
  len=$(printf '%02x' $((${#header} + pad + 1)))
  { printf "\\x93NUMPY\\x01\\x00\\x${len}\\x00"
    printf '%s%*s\n' "$header" "$pad" ''
    printf "$4"; } >"$1"
}

expect_eq() {
  [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
  checks=$((checks + 1))
}

# ---- good paths ----
printf 'hello world\n' >"$tmp/in.txt"
"$HYBENCH" tokens from-bytes --in "$tmp/in.txt" --out "$tmp/x.tok"
expect_eq "$(stat -c %s "$tmp/x.tok")" 56 "size of a 12-token u16 file (32-byte header + 2 x 12)"
expect_eq "$(info_value "$tmp/x.tok" count)" 12 "info count"
expect_eq "$(info_value "$tmp/x.tok" vocab)" 256 "info vocab"
expect_eq "$(info_value "$tmp/x.tok" min_id)" 10 "info min_id ('\\n')"
expect_eq "$(info_value "$tmp/x.tok" max_id)" 119 "info max_id ('w')"
"$HYBENCH" tokens from-bytes --in "$tmp/in.txt" --out "$tmp/x2.tok"
cmp -s "$tmp/x.tok" "$tmp/x2.tok" || fail "from-bytes is not deterministic"
"$HYBENCH" tokens from-bytes --in "$tmp/in.txt" --out "$tmp/v.tok" --vocab 70000
expect_eq "$(stat -c %s "$tmp/v.tok")" 80 "size of a 12-token u32 file (vocab > 65536)"
expect_eq "$(info_value "$tmp/v.tok" vocab)" 70000 "info vocab 70000"
: >"$tmp/empty.txt"
"$HYBENCH" tokens from-bytes --in "$tmp/empty.txt" --out "$tmp/empty.tok"
expect_eq "$(info_value "$tmp/empty.tok" count)" 0 "empty token file count"

"$HYBENCH" tokens to-npy --in "$tmp/x.tok" --seq-len 4 --batch 2 --offset 1 --out "$tmp/tok.npy"
"$HYBENCH" tokens to-npy --in "$tmp/v.tok" --seq-len 3 --batch 4 --out "$tmp/all.npy"
if "$PYTHON" -c 'import numpy' 2>/dev/null; then
  "$PYTHON" - "$tmp" <<'EOF' || fail "NumPy disagrees with to-npy"
import sys, numpy as np
d = sys.argv[1]
text = np.frombuffer(b'hello world\n', dtype=np.uint8).astype(np.int32)
a = np.load(d + '/tok.npy')
assert a.dtype == np.int32 and a.shape == (2, 4), (a.dtype, a.shape)
assert np.array_equal(a, text[1:9].reshape(2, 4)), a
b = np.load(d + '/all.npy')
assert b.dtype == np.int32 and np.array_equal(b, text.reshape(4, 3)), b
EOF
  checks=$((checks + 1))
else
  echo "SKIPPED NumPy check: $PYTHON has no numpy"
fi
# from-npy: the to-npy batch back into a token file holds the same ids, in the
# same bytes as from-bytes writes them; int64 and u32-wide files too.
"$HYBENCH" tokens to-npy --in "$tmp/x.tok" --seq-len 3 --batch 4 --out "$tmp/x12.npy"
"$HYBENCH" tokens from-npy --in "$tmp/x12.npy" --out "$tmp/back.tok" --vocab 256
cmp -s "$tmp/x.tok" "$tmp/back.tok" || fail "to-npy then from-npy does not give back the token file"
checks=$((checks + 1))
"$HYBENCH" tokens from-npy --in "$tmp/x12.npy" --out "$tmp/back70k.tok" --vocab 70000
cmp -s "$tmp/v.tok" "$tmp/back70k.tok" || fail "from-npy --vocab 70000 differs from from-bytes --vocab 70000"
checks=$((checks + 1))
make_npy "$tmp/i8.npy" '<i8' '(2, 2)' '\x05\0\0\0\0\0\0\0\x00\0\0\0\0\0\0\0\x06\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0'
"$HYBENCH" tokens from-npy --in "$tmp/i8.npy" --out "$tmp/i8.tok" --vocab 7
expect_eq "$(info_value "$tmp/i8.tok" count),$(info_value "$tmp/i8.tok" min_id),$(info_value "$tmp/i8.tok" max_id)" \
  4,0,6 "from-npy of an int64 (2, 2) array: count, min, max"
make_npy "$tmp/e.npy" '<i4' '(0, 3)' ''
"$HYBENCH" tokens from-npy --in "$tmp/e.npy" --out "$tmp/e.tok" --vocab 1
expect_eq "$(info_value "$tmp/e.tok" count)" 0 "from-npy of a (0, 3) array"

help=$("$HYBENCH" tokens --help)
for sub in from-bytes from-npy to-npy info; do
  grep -q "^  $sub " <<<"$help" || fail "tokens --help does not list $sub"
done
no_leftovers "$tmp/none"

# ---- bad token files ----
head -c -1 "$tmp/x.tok" >"$tmp/trunc.tok"
expect_input_error "$tmp/o.npy" "trunc.tok: count: truncated" \
  "$HYBENCH" tokens to-npy --in "$tmp/trunc.tok" --seq-len 4 --batch 1 --out "$tmp/o.npy"
expect_input_error "$tmp/o.npy" "trunc.tok: count: truncated" "$HYBENCH" tokens info --in "$tmp/trunc.tok"
cat "$tmp/x.tok" "$tmp/in.txt" >"$tmp/long.tok"
expect_input_error "$tmp/o.npy" "long.tok: count: 12 trailing bytes" "$HYBENCH" tokens info --in "$tmp/long.tok"
head -c 20 "$tmp/x.tok" >"$tmp/short.tok"
expect_input_error "$tmp/o.npy" "short.tok: header: truncated" "$HYBENCH" tokens info --in "$tmp/short.tok"
# vocab field (bytes 16-19) patched to 100: id 0 is 'h' = 104.
{ head -c 16 "$tmp/x.tok"; printf '\x64\x00\x00\x00'; tail -c +21 "$tmp/x.tok"; } >"$tmp/badid.tok"
expect_input_error "$tmp/o.npy" "badid.tok: token 0: id 104 >= vocab 100" \
  "$HYBENCH" tokens to-npy --in "$tmp/badid.tok" --seq-len 4 --batch 1 --out "$tmp/o.npy"
{ printf 'HBTOKENX'; tail -c +9 "$tmp/x.tok"; } >"$tmp/badmagic.tok"
expect_input_error "$tmp/o.npy" "badmagic.tok: magic" \
  "$HYBENCH" tokens to-npy --in "$tmp/badmagic.tok" --seq-len 4 --batch 1 --out "$tmp/o.npy"
{ head -c 8 "$tmp/x.tok"; printf '\x02\x00\x00\x00'; tail -c +13 "$tmp/x.tok"; } >"$tmp/badversion.tok"
expect_input_error "$tmp/o.npy" "badversion.tok: version: 2" "$HYBENCH" tokens info --in "$tmp/badversion.tok"
expect_input_error "$tmp/o.npy" "missing.tok: cannot open" \
  "$HYBENCH" tokens to-npy --in "$tmp/missing.tok" --seq-len 4 --batch 1 --out "$tmp/o.npy"
expect_input_error "$tmp/o.npy" "x.tok: count: 12 tokens, but --offset 10 + --batch 1 x --seq-len 4 needs 14" \
  "$HYBENCH" tokens to-npy --in "$tmp/x.tok" --seq-len 4 --batch 1 --offset 10 --out "$tmp/o.npy"

# ---- bad .npy input to from-npy ----
expect_input_error "$tmp/o.tok" "i8.npy: element [1, 0]: value 6 is outside [0, --vocab 6)" \
  "$HYBENCH" tokens from-npy --in "$tmp/i8.npy" --out "$tmp/o.tok" --vocab 6
# NAME|DESCR|SHAPE|DATA|what stderr says after "NAME.npy: "
while IFS='|' read -r name descr shape data needle; do
  make_npy "$tmp/$name.npy" "$descr" "$shape" "$data"
  expect_input_error "$tmp/o.tok" "$name.npy: $needle" \
    "$HYBENCH" tokens from-npy --in "$tmp/$name.npy" --out "$tmp/o.tok" --vocab 256
done <<'EOF'
neg|<i4|(1, 2)|\x01\0\0\0\xff\xff\xff\xff|element [0, 1]: value -1 is outside [0, --vocab 256)
f4|<f4|(1, 1)|\0\0\x80\x3f|descr: '<f4' is not an integer type
flat|<i4|(1,)|\x01\0\0\0|shape: 1 dimensions, expected 2
short|<i4|(1, 2)|\x01\0\0\0|data: truncated
EOF
expect_input_error "$tmp/o.tok" "x.tok: magic: not a NumPy .npy file" \
  "$HYBENCH" tokens from-npy --in "$tmp/x.tok" --out "$tmp/o.tok" --vocab 256
expect_input_error "$tmp/o.tok" "tokens from-npy: missing required option --vocab" \
  "$HYBENCH" tokens from-npy --in "$tmp/x12.npy" --out "$tmp/o.tok"
expect_input_error "$tmp/o.tok" "tokens from-npy --vocab: 4294967296 is outside [1, 4294967295]" \
  "$HYBENCH" tokens from-npy --in "$tmp/x12.npy" --out "$tmp/o.tok" --vocab 4294967296

# ---- bad raw input and bad flags ----
expect_input_error "$tmp/o.tok" "in.txt: byte 0: value 104 >= --vocab 100" \
  "$HYBENCH" tokens from-bytes --in "$tmp/in.txt" --out "$tmp/o.tok" --vocab 100
expect_input_error "$tmp/o.tok" "nothing.txt: cannot open" \
  "$HYBENCH" tokens from-bytes --in "$tmp/nothing.txt" --out "$tmp/o.tok"
expect_input_error "$tmp/o.tok" "$tmp: not a regular file" \
  "$HYBENCH" tokens from-bytes --in "$tmp" --out "$tmp/o.tok"
expect_input_error "$tmp/o.npy" "$tmp: file: not a regular file" "$HYBENCH" tokens info --in "$tmp"
expect_input_error "$tmp/o.tok" "tokens from-bytes --vocab: 0 is outside" \
  "$HYBENCH" tokens from-bytes --in "$tmp/in.txt" --out "$tmp/o.tok" --vocab 0
expect_input_error "$tmp/o.npy" "tokens to-npy: unknown option '--bogus'" \
  "$HYBENCH" tokens to-npy --in "$tmp/x.tok" --seq-len 4 --batch 1 --out "$tmp/o.npy" --bogus
expect_input_error "$tmp/o.npy" "tokens to-npy --seq-len: 'abc'" \
  "$HYBENCH" tokens to-npy --in "$tmp/x.tok" --seq-len abc --batch 1 --out "$tmp/o.npy"
expect_input_error "$tmp/o.npy" "tokens to-npy --batch: 0, must be >= 1" \
  "$HYBENCH" tokens to-npy --in "$tmp/x.tok" --seq-len 4 --batch 0 --out "$tmp/o.npy"
expect_input_error "$tmp/o.npy" "missing required option --out" \
  "$HYBENCH" tokens to-npy --in "$tmp/x.tok" --seq-len 4 --batch 1
expect_input_error "$tmp/nodir/o.npy" "nodir/o.npy: cannot open for writing" \
  "$HYBENCH" tokens to-npy --in "$tmp/x.tok" --seq-len 4 --batch 1 --out "$tmp/nodir/o.npy"
expect_input_error "$tmp/o.npy" "tokens: unknown subcommand 'frobnicate'" "$HYBENCH" tokens frobnicate
expect_input_error "$tmp/o.npy" "tokens: missing subcommand" "$HYBENCH" tokens

echo "tokens.sh: $checks checks passed"
