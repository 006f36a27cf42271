#!/usr/bin/env bash
# param-count.sh HYBENCH MODEL.conf: prints the model's parameter count N
# (from `hybench init`, which builds the model from the config).
set -euo pipefail
hybench=$1 conf=$2
tmpdir=$(mktemp -d); trap 'rm -rf "$tmpdir"' EXIT
line=$("$hybench" init --model "$conf" --seed 1 --out "$tmpdir/p.safetensors")
n=$(echo "$line" | sed -n 's/.*, \([0-9][0-9]*\) parameters$/\1/p')
[ -n "$n" ] || { echo "param-count.sh: $conf: no parameter count in '$line'" >&2; exit 1; }
echo "$n"
