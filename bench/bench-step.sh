#!/usr/bin/env bash
# `make bench-step`: training-step throughput of the engine next to a plain
# PyTorch implementation of the same model (bench/peers/torch_step.py), in
# one run on one machine. Shapes: the reference shape (vocab 256, D 128,
# 4 layers of 4 heads x 32, SwiGLU 384, T 512, B 8, fp32, 2 threads) for
# FFFF and SSSF (w 64), and the small regime shape of DESIGN.md section 8
# (2-layer SF, w 8, D 64, T 128, B 32) at 1 and 2 threads.
# Prints one TSV row per case and the ratio engine / PyTorch. The recurrent
# hybrids (LLLF, MMMF, GGGF) have no PyTorch peer here (the peer implements
# F and S only): their rows show the engine alone. A second table gives the
# time per training step against T (B = 2) for models made of one mixer kind
# (FFFF, SSSS, LLLL, MMMM, GGGG), which must grow linearly for S, L, M and G
# (and quadratically for F).
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
run_case() { # name conf T B threads [no-peer]
  local e t=nan
  e=$(engine_tps "$2" "$3" "$4" "$5")
  [ -n "${6:-}" ] || t=$(torch_tps "$2" "$3" "$4" "$5")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$3" "$4" "$5" "$e" "$t" \
    "$(awk -v a="$e" -v b="$t" 'BEGIN {if (b == "nan") print "-"; else printf "%.2f", a / b}')" >> /tmp/bench-step.$$
}
run_case FFFF bench/models/ref_ffff.conf 512 8 2
run_case SSSF_w64 bench/models/ref_sssf.conf 512 8 2
run_case SF_w8_small bench/models/small_sf_w8.conf 128 32 1
run_case SF_w8_small bench/models/small_sf_w8.conf 128 32 2
for p in lllf mmmf gggf; do run_case "$(echo $p | tr a-z A-Z)" "bench/models/ref_$p.conf" 512 8 2 no-peer; done
echo
column -t -s $'\t' /tmp/bench-step.$$
rm -f /tmp/bench-step.$$

echo
printf 'pattern\tT=512\tT=1024\tT=2048\tT=4096\t(ms per step, B 2, 2 threads)\n' > /tmp/bench-len.$$
for p in ffff ssss llll mmmm gggg; do
  row="$(echo $p | tr a-z A-Z)"
  for T in 512 1024 2048 4096; do
    ms=$($HB bench step --model "bench/models/ref_$p.conf" --seq-len $T --batch 2 --threads 2 --steps 3 --warmup 1 \
      | awk '/^step time/ {print $3}')
    row="$row\t$ms"
  done
  printf '%b\n' "$row" >> /tmp/bench-len.$$
done
column -t -s $'\t' /tmp/bench-len.$$
rm -f /tmp/bench-len.$$
