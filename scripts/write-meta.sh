#!/usr/bin/env bash
# Writes the metadata sidecar of a result table (STYLE.md rule 13):
#   scripts/write-meta.sh TABLE.tsv [THREADS]  ->  TABLE.tsv.meta
# git revision (and whether the tree had uncommitted changes), date, host
# CPU, thread count, the precision of the runs' products (PRECISION, default
# fp32), and `hybench version` (build flags, oneDNN, GSL).
set -euo pipefail
table=${1:?usage: scripts/write-meta.sh TABLE.tsv [THREADS]}
threads=${2:-1}
HB=${HB:-bin/hybench}
tmp="$table.meta.tmp.$$"
{
  echo "table = $(basename "$table")"
  echo "git_revision = $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "git_dirty = $([ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo yes || echo no)"
  echo "date = $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu = $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo) x $(nproc)"
  echo "threads = $threads"
  echo "precision = ${PRECISION:-fp32}"
  $HB version
} > "$tmp"
mv "$tmp" "$table.meta"
