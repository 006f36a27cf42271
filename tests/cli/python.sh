#!/usr/bin/env bash
# The Python bridge (python/hybench) against the engine, run from the repo root (as `make
# test` does): tests/parity/check_bridge.py loads `hybench init` checkpoints of every parity
# config (tests/parity/*.conf) and a `hybench train` run of slmgf (all five mixers), compares
# logits with `hybench forward` (within 1e-5), saves them back (same bytes), and reads and
# writes .tok files beside `hybench tokens`. Needs Debian's /usr/bin/python3 with
# python3-numpy and python3-torch (`python3` on PATH may be another interpreter).
# HYBENCH overrides the binary (default bin/hybench).
set -euo pipefail

HYBENCH=${HYBENCH:-bin/hybench}
PYTHON=/usr/bin/python3
[ -x "$HYBENCH" ] || { echo "FAIL: $HYBENCH not built" >&2; exit 1; }
"$PYTHON" -c 'import numpy, torch' 2>/dev/null ||
  { echo "FAIL: $PYTHON lacks numpy or torch (scripts/install-deps.sh installs them)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/hb_cli_python.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$PYTHON" tests/parity/check_bridge.py --hybench "$HYBENCH" --workdir "$tmp" \
  --train tests/parity/slmgf.conf tests/parity/*.conf
# The package imports the way its documentation says, from the repository root.
PYTHONPATH=python "$PYTHON" -c 'import hybench; hybench.load_model, hybench.save_checkpoint, hybench.read_tok, hybench.write_tok' ||
  { echo "FAIL: PYTHONPATH=python $PYTHON -c 'import hybench' does not give the documented API" >&2; exit 1; }
echo "python.sh: passed"
