#!/usr/bin/env bash
# The runs behind docs/taxonomy.md ("Evidence"): an initial set of 100 (stratified), batches of 50, up
# to 2,000 labels (38 cycles), the default classifier. Writes to $OUT/tree-* (default runs/); a finished
# run is skipped. SEEDS (default 5) sets the seeds: 5 seeds of the amazon-in tree run took 15 minutes on
# a 2-core CPU shared with one other heavy job. level-margin is left out for time (add it back with
# TREE_EXTRA="--strategy level-margin"); it is not the same as top-down-margin (docs/taxonomy.md).
#   bash bench/tree_evidence.sh amazon      # amazon-in: 19 -> 111 tree, and the flat 19-class model
#   bash bench/tree_evidence.sh bestbuy     # Best Buy: 3-level tree (bench/datasets/bestbuy.py)
# then: python bench/tree_table.py $OUT/tree-amazon $OUT/tree-amazon-flat-top
set -euo pipefail
DATA=${DATA:-../shared/data/amazon-in-products/amazon_in_products.parquet}
BESTBUY=${BESTBUY:-../data-ext/bestbuy.parquet}
ALLOOP=${ALLOOP:-.venv/bin/alloop}
SEEDS=${SEEDS:-5}
OUT=${OUT:-runs}
# shellcheck disable=SC2206
TREE=(--strategy random --strategy margin --strategy top-down-margin --strategy balanced-branch-margin
      --query-level 1 ${TREE_EXTRA:-})
FLAT=(--strategy random --strategy margin)
run() { local name=$1; shift; [ -f "$OUT/$name/report.html" ] || nice -n 10 "$ALLOOP" run --seeds "$SEEDS" \
    --initial 100 --query-size 50 --cycles 38 --budget 2000 "$@" --out "$OUT/$name"; }
for what in "${@:-amazon}"; do
  case "$what" in
    amazon)
      run tree-amazon --data "$DATA" --label category --label sub_category "${TREE[@]}"
      run tree-amazon-flat-top --data "$DATA" --label category "${FLAT[@]}" ;;
    bestbuy)
      run tree-bestbuy --data "$BESTBUY" --label category_path --label-sep " > " "${TREE[@]}"
      run tree-bestbuy-flat-top --data "$BESTBUY" --label level_1 "${FLAT[@]}" ;;
    *) echo "unknown: $what (amazon, bestbuy)" >&2; exit 2 ;;
  esac
done
