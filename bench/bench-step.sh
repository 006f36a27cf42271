#!/usr/bin/env bash
# `make bench-step`: training-step throughput of the engine next to a plain
# PyTorch implementation of the same model (bench/peers/torch_step.py), in
# one run on one machine, in fp32 and in bf16 (engine: --precision bf16, bf16
# products with fp32 accumulation; PyTorch: torch.autocast bf16, the mixed
# precision its users pick). Shapes: the reference shape (vocab 256, D 128,
# 4 layers of 4 heads x 32, SwiGLU 384, T 512, B 8, 2 threads) for FFFF and
# SSSF (w 64), and the small regime shape of DESIGN.md section 8 (2-layer SF,
# w 8, D 64, T 128, B 32) at 1 thread. The recurrent hybrids (LLLF, MMMF,
# GGGF) have no PyTorch peer here (the peer implements F and S only).
#
# Tables, in order:
#   1. tokens/s of every case and precision, the ratios, peak memory per step
#      (the process's peak resident set);
#   2. GEMM peaks: `hybench bench gemm` (2048^3) in fp32 and bf16, and the
#      share of them the linear layers reach inside a training step;
#   3. contention: the reference shape while another process keeps one core
#      busy, with 2 threads (the engine's passive wait, src/cli/main.c, and
#      libgomp's default spin-then-sleep, GOMP_SPINCOUNT=300000) and 1
#      thread; and the pipeline's way of using 2 cores (two 1-thread runs of
#      the small shape at once) against one 2-thread run;
#   4. step time against T (B 2, 2 threads, 512 .. 8192) for models of one
#      mixer kind, both precisions, with the fitted log-log slope over
#      1024 .. 8192 (linear in T: 1; quadratic: 2).
# Nothing is asserted: the figures are printed for the reader (issue 16's
# targets are compared in REPRODUCE.md / the closing notes).
# Environment: STEPS (timed steps, default 10), QUICK=1 (2 timed steps and
# T up to 2048: a smoke run of the script itself, not a measurement).
set -euo pipefail
cd "$(dirname "$0")/.."
HB=${HB:-bin/hybench}
PY=/usr/bin/python3
STEPS=${STEPS:-10}
LENGTHS="512 1024 2048 4096 8192"
if [ -n "${QUICK:-}" ]; then STEPS=2 LENGTHS="512 1024 2048"; fi
tmp=$(mktemp -d)
spinner=
cleanup() { [ -z "$spinner" ] || kill "$spinner" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

conf_value() { awk -F' *= *' -v k="$2" '$1 == k {print $2}' "$1"; }
field() { awk -v k="$1" '$1 == k {print $2}'; } # value of a `key value` line

# engine PRECISION CONF T B THREADS [ENV=VALUE ...] -> "tokens_per_s peak_rss_mb linear_gemm_gflops"
engine() {
  local prec=$1 conf=$2 T=$3 B=$4 th=$5
  shift 5
  env "$@" "$HB" bench step --model "$conf" --seq-len "$T" --batch "$B" --threads "$th" --steps "$STEPS" \
    --warmup 3 --precision "$prec" > "$tmp/out"
  sed 's/^/    /' "$tmp/out" >&2
  [ -z "${CASE:-}" ] || sed -n "s/^step time/$CASE $prec: step time/p" "$tmp/out" >> "$tmp/splits"
  echo "$(field tokens_per_s < "$tmp/out") $(field peak_rss_mb < "$tmp/out") $(field linear_gemm_gflops < "$tmp/out")"
}

# torch AUTOCAST CONF T B THREADS -> "tokens_per_s peak_rss_mb"
torch_peer() {
  local c=$2
  # OpenBLAS 0.3.21 does not recognise this CPU and would fall back to SSE3 kernels.
  OPENBLAS_CORETYPE=SKYLAKEX $PY bench/peers/torch_step.py --vocab "$(conf_value "$c" vocab)" \
    --d-model "$(conf_value "$c" d_model)" --pattern "$(conf_value "$c" pattern)" \
    --n-heads "$(conf_value "$c" n_heads)" --head-dim "$(conf_value "$c" head_dim)" \
    --mlp-hidden "$(conf_value "$c" mlp_hidden)" --window "$(conf_value "$c" window)" \
    --tie-embeddings on --seq-len "$3" --batch "$4" --threads "$5" --steps "$STEPS" --warmup-steps 3 \
    --autocast "$1" > "$tmp/out"
  sed 's/^/    /' "$tmp/out" >&2
  echo "$(field tokens_per_s < "$tmp/out") $(field peak_rss_mb < "$tmp/out")"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b}'; }
show() { echo; echo "== $1"; column -t -s $'\t' "$2"; }

# ---- 1. throughput -----------------------------------------------------------
t1=$tmp/throughput.tsv
printf 'case\tT\tB\tthreads\tengine_fp32\tengine_bf16\ttorch_fp32\ttorch_bf16\tbf16/fp32\tengine/torch_fp32\tengine/torch_bf16\tmem_MiB_engine_fp32\tmem_engine_bf16\tmem_torch_fp32\tmem_torch_bf16\n' > "$t1"
t2=$tmp/gemm.tsv
printf 'case\tprecision\tlinear_gemm_gflops\tpeak_gflops\tshare_of_peak\n' > "$t2"
declare -A PEAK
for prec in fp32 bf16; do
  for th in 1 2; do
    echo "-- bench gemm --precision $prec --threads $th" >&2
    PEAK[$prec.$th]=$("$HB" bench gemm --precision "$prec" --threads "$th" --reps 5 | tee /dev/stderr | field gflops)
  done
done

bench_case() { # NAME CONF T B THREADS [no-peer]
  local name=$1 conf=$2 T=$3 B=$4 th=$5 peer=${6:-}
  echo "-- $name" >&2
  CASE=$name
  read -r e32 m32 g32 <<< "$(engine fp32 "$conf" "$T" "$B" "$th")"
  read -r e16 m16 g16 <<< "$(engine bf16 "$conf" "$T" "$B" "$th")"
  CASE=
  local p32=- p16=- pm32=- pm16=-
  if [ -z "$peer" ]; then
    read -r p32 pm32 <<< "$(torch_peer off "$conf" "$T" "$B" "$th")"
    read -r p16 pm16 <<< "$(torch_peer bf16 "$conf" "$T" "$B" "$th")"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$T" "$B" "$th" "$e32" "$e16" "$p32" "$p16" \
    "$(ratio "$e16" "$e32")" "$(ratio "$e32" "$p32")" "$(ratio "$e16" "$p16")" "$m32" "$m16" "$pm32" "$pm16" >> "$t1"
  printf '%s\tfp32\t%s\t%s\t%s\n' "$name" "$g32" "${PEAK[fp32.$th]}" "$(ratio "$g32" "${PEAK[fp32.$th]}")" >> "$t2"
  printf '%s\tbf16\t%s\t%s\t%s\n' "$name" "$g16" "${PEAK[bf16.$th]}" "$(ratio "$g16" "${PEAK[bf16.$th]}")" >> "$t2"
}
bench_case FFFF bench/models/ref_ffff.conf 512 8 2
bench_case SSSF_w64 bench/models/ref_sssf.conf 512 8 2
bench_case SF_w8_small bench/models/small_sf_w8.conf 128 32 1
for p in lllf mmmf gggf; do bench_case "$(echo $p | tr a-z A-Z)" "bench/models/ref_$p.conf" 512 8 2 no-peer; done
show "1. training tokens/s (bf16/fp32: engine; engine/torch: same precision), peak memory MiB" "$t1"
echo
echo "== 1b. where the step time goes (hybench bench step)"
cat "$tmp/splits"
show "2. GEMM GFLOP/s: linear layers inside a step against bench gemm 2048^3 (same threads; bf16 includes rounding operands)" "$t2"

# ---- 3. contention -----------------------------------------------------------
t3=$tmp/contention.tsv
printf 'case\tprecision\tthreads\twait_policy\tidle_tokens_per_s\tbusy_core_tokens_per_s\tbusy/idle\n' > "$t3"
spin_on() { (while :; do :; done) & spinner=$!; }
spin_off() { kill "$spinner" 2>/dev/null || true; wait "$spinner" 2>/dev/null || true; spinner=; }
contention_case() { # NAME CONF PRECISION THREADS POLICY
  local name=$1 conf=$2 prec=$3 th=$4 pol=$5 idle busy envs=()
  [ "$pol" = passive ] || envs=(GOMP_SPINCOUNT=300000) # libgomp's default spin
  echo "-- contention $name $prec threads $th policy $pol" >&2
  idle=$(engine "$prec" "$conf" 512 8 "$th" "${envs[@]}" | cut -d' ' -f1)
  spin_on
  busy=$(engine "$prec" "$conf" 512 8 "$th" "${envs[@]}" | cut -d' ' -f1)
  spin_off
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$prec" "$th" "$pol" "$idle" "$busy" "$(ratio "$busy" "$idle")" >> "$t3"
}
for p in ffff sssf; do
  for prec in fp32 bf16; do
    contention_case "$(echo $p | tr a-z A-Z)" "bench/models/ref_$p.conf" "$prec" 2 passive
    contention_case "$(echo $p | tr a-z A-Z)" "bench/models/ref_$p.conf" "$prec" 2 spin
    contention_case "$(echo $p | tr a-z A-Z)" "bench/models/ref_$p.conf" "$prec" 1 passive
  done
done
show "3a. reference shape (T 512, B 8) with one core kept busy by another process" "$t3"

t3b=$tmp/pipeline.tsv
printf 'layout\tprecision\truns_at_once\tthreads_each\ttokens_per_s_each\ttotal_tokens_per_s\n' > "$t3b"
for prec in fp32 bf16; do
  one=$(engine "$prec" bench/models/small_sf_w8.conf 128 32 2 | cut -d' ' -f1)
  printf 'one 2-thread run\t%s\t1\t2\t%s\t%s\n' "$prec" "$one" "$one" >> "$t3b"
  for i in 1 2; do
    "$HB" bench step --model bench/models/small_sf_w8.conf --seq-len 128 --batch 32 --threads 1 --steps "$STEPS" \
      --warmup 3 --precision "$prec" > "$tmp/pair$i" &
  done
  wait
  a=$(field tokens_per_s < "$tmp/pair1") b=$(field tokens_per_s < "$tmp/pair2")
  printf 'two 1-thread runs\t%s\t2\t1\t%s, %s\t%s\n' "$prec" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.1f", a + b}')" >> "$t3b"
done
show "3b. the small regime shape (SF w 8, T 128, B 32) on 2 cores: how the pipeline runs (make -j2, 1 thread each) against one 2-thread run" "$t3b"

# ---- 4. step time against T -----------------------------------------------------
t4=$tmp/lengths.tsv
{
  printf 'pattern\tprecision'
  for T in $LENGTHS; do printf '\tT=%s' "$T"; done
  printf '\tslope_1024_up\n'
} > "$t4"
for p in ffff ssss llll mmmm gggg; do
  for prec in fp32 bf16; do
    row="$(echo $p | tr a-z A-Z)\t$prec" pts=
    for T in $LENGTHS; do
      echo "-- $p $prec T $T" >&2
      ms=$("$HB" bench step --model "bench/models/ref_$p.conf" --seq-len "$T" --batch 2 --threads 2 --steps 3 --warmup 1 \
        --precision "$prec" | awk '/^step time/ {print $3}')
      row="$row\t$ms" pts="$pts $T:$ms"
    done
    # Least-squares slope of log(ms) on log(T) over T >= 1024.
    slope=$(echo "$pts" | tr ' ' '\n' | awk -F: '$1 >= 1024 {x = log($1); y = log($2); n++; sx += x; sy += y; sxx += x * x; sxy += x * y}
      END {if (n >= 2) printf "%.3f", (n * sxy - sx * sy) / (n * sxx - sx * sx); else print "-"}')
    printf '%b\t%s\n' "$row" "$slope" >> "$t4"
  done
done
show "4. ms per training step against T (B 2, 2 threads); slope of log ms on log T over T >= 1024" "$t4"

# ---- 5. which kernels run -------------------------------------------------------
# Why bf16 is not 2x fp32 here: the kernels oneDNN dispatches to, with their
# time in one training step of the reference FFFF shape (ONEDNN_VERBOSE), per
# precision; the step's split (linear GEMMs, attention, rounding, rest) is
# table 1b above.
t5=$tmp/kernels.tsv
printf 'precision\tkernel\texecutions\tms_in_one_step\n' > "$t5"
for prec in fp32 bf16; do
  ONEDNN_VERBOSE=1 "$HB" bench step --model bench/models/ref_ffff.conf --seq-len 512 --batch 8 --threads 2 --steps 1 \
    --warmup 2 --precision "$prec" > "$tmp/verbose"
  grep '^step time' "$tmp/verbose" | sed "s/^/    $prec: /" >&2
  # The last step's executions: the timed one (warm-up steps come first).
  awk -F, -v p="$prec" '/^onednn_verbose,exec,/ {n++; impl[n] = $5; ms[n] = $NF}
    END {per = n / 3; for (i = n - per + 1; i <= n; i++) {c[impl[i]]++; t[impl[i]] += ms[i]}
         for (k in c) printf "%s\t%s\t%d\t%.1f\n", p, k, c[k], t[k]}' "$tmp/verbose" | sort -k4 -rn >> "$t5"
done
show "5. oneDNN kernels of one FFFF training step (T 512, B 8, 2 threads): executions and milliseconds" "$t5"
