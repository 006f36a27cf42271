#!/usr/bin/env bash
# `make bench-step`: training-step throughput of the engine next to a plain
# PyTorch implementation of the same model (bench/peers/torch_step.py), in
# one run on one machine. Shapes: the reference shape (vocab 256, D 128,
# 4 layers of 4 heads x 32, SwiGLU 384, T 512, B 8, fp32, 2 threads) for
# FFFF and SSSF (w 64), and the small regime shape of DESIGN.md section 8
# (2-layer SF, w 8, D 64, T 128, B 32) at 1 and 2 threads.
# Prints one TSV row per case and the ratio engine / PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
HB=${HB:-bin/hybench}
PY=/usr/bin/python3
STEPS=${STEPS:-10}

conf_value() { awk -F' *= *' -v k="$2" '$1 == k {print $2}' "$1"; }

engine_tps() { # conf T B threads
  $HB bench step --model "$1" --seq-len "$2" --batch "$3" --threads "$4" --steps "$STEPS" --warmup 3 \
    | tee /dev/stderr | awk '/^tokens_per_s/ {print $2}'
}

torch_tps() { # conf T B threads
  local c=$1
  # OpenBLAS 0.3.21 does not recognise this CPU and would fall back to SSE3 kernels.
  OPENBLAS_CORETYPE=SKYLAKEX $PY bench/peers/torch_step.py --vocab "$(conf_value "$c" vocab)" \
    --d-model "$(conf_value "$c" d_model)" --pattern "$(conf_value "$c" pattern)" \
    --n-heads "$(conf_value "$c" n_heads)" --head-dim "$(conf_value "$c" head_dim)" \
    --mlp-hidden "$(conf_value "$c" mlp_hidden)" --window "$(conf_value "$c" window)" \
    --tie-embeddings on --seq-len "$2" --batch "$3" --threads "$4" --steps "$STEPS" --warmup-steps 3 \
    | tee /dev/stderr | awk '/^tokens_per_s/ {print $2}'
}

printf 'case\tT\tB\tthreads\tengine_tokens_per_s\ttorch_tokens_per_s\tratio\n' > /tmp/bench-step.$$
run_case() { # name conf T B threads
  local e t
  e=$(engine_tps "$2" "$3" "$4" "$5")
  t=$(torch_tps "$2" "$3" "$4" "$5")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$3" "$4" "$5" "$e" "$t" \
    "$(awk -v a="$e" -v b="$t" 'BEGIN {printf "%.2f", a / b}')" >> /tmp/bench-step.$$
}
run_case FFFF bench/models/ref_ffff.conf 512 8 2
run_case SSSF_w64 bench/models/ref_sssf.conf 512 8 2
run_case SF_w8_small bench/models/small_sf_w8.conf 128 32 1
run_case SF_w8_small bench/models/small_sf_w8.conf 128 32 2
echo
column -t -s $'\t' /tmp/bench-step.$$
rm -f /tmp/bench-step.$$
