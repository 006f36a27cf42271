# Sourced by the pipeline scripts: reading tables by column name.

# tsv_select COLUMN... < TSV: the header and every row with only those columns,
# in that order, tab-separated; exit 2 naming a column the header lacks (and
# the file, when TSV_FILE names it).
tsv_select() {
  awk -F'\t' -v OFS='\t' -v want="$*" -v file="${TSV_FILE:-}" '
    NR == 1 { n = split(want, w, " "); for (i = 1; i <= NF; i++) c[$i] = i
              for (k = 1; k <= n; k++) if (!(w[k] in c)) { print (file != "" ? file ": " : "") "no column " w[k] > "/dev/stderr"; exit 2 } }
    { line = $c[w[1]]; for (k = 2; k <= n; k++) line = line OFS $c[w[k]]; print line }'
}

# run_fields HYBENCH RUN_DIR COLUMN...: those fields of `hybench run info` (the
# run directory's owner; e.g. model, seed, efficient_layers, params), one line,
# tab-separated, from a single call.
run_fields() {
  local hb=$1 run=$2; shift 2
  "$hb" run info --run "$run" | tsv_select "$@" | tail -n +2
}
