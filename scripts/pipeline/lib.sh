# Sourced by the pipeline scripts: reading tables by column name.

# tsv_column COLUMN < TSV: the column's cells (header excluded), one per line;
# exit 2 naming the column when the header lacks it.
tsv_column() {
  awk -F'\t' -v col="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
    if (!(col in c)) { print "no column " col > "/dev/stderr"; exit 2 } next } { print $c[col] }'
}

# run_field HYBENCH RUN_DIR COLUMN: one field of `hybench run info` (the run
# directory's owner), e.g. model, seed, efficient_layers, params.
run_field() {
  "$1" run info --run "$2" | tsv_column "$3"
}
