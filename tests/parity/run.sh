#!/usr/bin/env bash
# Engine vs independent PyTorch reference (DESIGN.md section 3, interop contract).
# Run from the repository root (by `make test`). First the reference's self-checks
# (tests/parity/selftest.py, no engine needed), then tests/parity/check_parity.py for each
# model below at T = 128, B = 2, each at the engine's init weights and at scaled weights
# (peaked attention). Ends with one summary line per model; exits 1 on any failure.
# Environment: HYBENCH (engine binary, default bin/hybench), PYTHON (default /usr/bin/python3),
# PARITY_KEEP=1 keeps the work directories (they are always kept when a check fails).
set -euo pipefail

PYTHON=${PYTHON:-/usr/bin/python3}
HYBENCH=${HYBENCH:-bin/hybench}
DIR=tests/parity
MODELS=(ffff sssf_w16 sssf_w16_nope lllf mmmf gggf slmgf)

if [ ! -f "$DIR/check_parity.py" ]; then
  echo "run.sh: run from the repository root" >&2
  exit 2
fi

echo "== reference self-checks"
if ! "$PYTHON" "$DIR/selftest.py"; then
  echo "parity: FAIL (reference self-checks failed; engine not checked)"
  exit 1
fi

if [ ! -x "$HYBENCH" ]; then
  echo "parity: FAIL (engine $HYBENCH not found or not executable; build it with make)"
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hybench-parity.XXXXXX")
summaries=()
failed=0
for m in "${MODELS[@]}"; do
  echo "== $m"
  log="$work/$m.log"
  if "$PYTHON" "$DIR/check_parity.py" --hybench "$HYBENCH" --model "$DIR/$m.conf" \
       --seq-len 128 --batch 2 --seed 1 --workdir "$work/$m" >"$log" 2>&1; then
    rc=0
  else
    rc=$?
  fi
  cat "$log"
  line=$(grep -E "^parity " "$log" | tail -n 1 || true)
  [ -n "$line" ] || line="parity $m: FAIL (check_parity.py exited $rc without a summary)"
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
  summaries+=("$line")
done

if [ "$failed" -eq 0 ] && [ "${PARITY_KEEP:-0}" != 1 ]; then
  rm -rf "$work"
else
  echo "work files kept in $work"
fi
echo "== parity summary ($((${#MODELS[@]} - failed))/${#MODELS[@]} models pass)"
printf '%s\n' "${summaries[@]}"
[ "$failed" -eq 0 ]
