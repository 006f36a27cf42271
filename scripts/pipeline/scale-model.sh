#!/usr/bin/env bash
# scale-model.sh BASE.conf WIDTH OUT.conf: the E2 scaling grid's model of one
# size: BASE with d_model = WIDTH, heads of 16 (WIDTH/16 of them), SwiGLU
# hidden 3*WIDTH (the regime's ratio, 192 at d 64) and name BASE_dWIDTH.
# Everything else (pattern, window, RoPE, init) stays the base's, so one size
# axis is all that differs between the grid's models.
set -euo pipefail
base=$1 width=$2 out=$3
if ! [[ "$width" =~ ^[0-9]+$ ]] || (( width < 16 || width % 16 != 0 )); then
  echo "scale-model.sh: width '$width' must be a multiple of 16 (heads of 16)" >&2; exit 2
fi
[ -r "$base" ] || { echo "scale-model.sh: $base: cannot read the base model config" >&2; exit 2; }
name="$(basename "$base" .conf)_d$width"
tmp="$out.tmp.$$"; trap 'rm -f "$tmp"' EXIT
{
  echo "# E2 scaling grid: $base at d_model $width (scripts/pipeline/scale-model.sh)"
  awk -v name="$name" -v d="$width" '
    /^[ \t]*#/ || !/=/ { next }
    { key = $1 }
    key == "name"       { print "name = " name; next }
    key == "d_model"    { print "d_model = " d; next }
    key == "n_heads"    { print "n_heads = " d / 16; next }
    key == "head_dim"   { print "head_dim = 16"; next }
    key == "mlp_hidden" { print "mlp_hidden = " 3 * d; next }
    { print }' "$base"
} > "$tmp"
mv "$tmp" "$out"
