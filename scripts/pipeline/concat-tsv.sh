#!/usr/bin/env bash
# concat-tsv.sh OUT IN...: the rows of every IN under the header of the first
# (all must share it), written atomically. An input whose header differs is an
# error naming it.
set -euo pipefail
out=$1; shift
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
header=$(head -1 "$1")
{
  echo "$header"
  for f in "$@"; do
    [ "$(head -1 "$f")" = "$header" ] || { echo "concat-tsv.sh: $f: header differs from $1" >&2; exit 2; }
    tail -n +2 "$f"
  done
} > "$tmp"
mv "$tmp" "$out"
trap - EXIT
