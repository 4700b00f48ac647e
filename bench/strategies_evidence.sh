#!/usr/bin/env bash
# The runs behind docs/strategies.md: 5 seeds, an initial set of 100 (stratified), batches of 50,
# 20 cycles (100 -> 1,100 labels). Writes to runs/evidence-*; a finished run is skipped.
#   bash bench/strategies_evidence.sh core              # random, margin, cluster-margin: each classifier
#   bash bench/strategies_evidence.sh pricerunner       # a second retailer (bench/datasets/pricerunner.py)
#   bash bench/strategies_evidence.sh hybrid            # every strategy with the hybrid (the default)
#   bash bench/strategies_evidence.sh cold              # the three cold starts
#   bash bench/strategies_evidence.sh balanced          # class-balanced batches, both retailers
#   bash bench/strategies_evidence.sh graph             # the hybrid with label spreading (the default since
#                                                       # 2026-12-03, third session): every strategy, both retailers
set -euo pipefail
DATA=${DATA:-../shared/data/amazon-in-products/amazon_in_products.parquet}
PRICERUNNER=${PRICERUNNER:-../data-ext/pricerunner.parquet}
ALLOOP=${ALLOOP:-.venv/bin/alloop}
ALL=(--strategy random --strategy least-confidence --strategy entropy --strategy margin
     --strategy badge --strategy coreset --strategy cluster-margin --strategy margin+dedup)
run() { local name=$1; shift; [ -f "runs/$name/report.html" ] || "$ALLOOP" run --seeds 5 \
    --initial 100 --query-size 50 --cycles 20 "$@" --out "runs/$name"; }
CORE=(--strategy random --strategy margin --strategy cluster-margin)
for what in "${@:-core}"; do
  case "$what" in
    core)
      for clf in hybrid bert-frozen tfidf; do
        run "evidence-core-$clf" --data "$DATA" --classifier "$clf" "${CORE[@]}"
      done ;;
    hybrid|bert-frozen|tfidf) run "evidence-$what" --data "$DATA" --classifier "$what" "${ALL[@]}" ;;
    pricerunner)
      for clf in hybrid bert-frozen tfidf; do
        run "evidence-pricerunner-$clf" --data "$PRICERUNNER" --classifier "$clf" \
            --strategy random --strategy margin
      done ;;
    balanced)
      BAL=(--classifier hybrid --strategy random --strategy cluster-margin --strategy balanced-margin
           --strategy balanced-cluster-margin)
      run evidence-balanced --data "$DATA" "${BAL[@]}"
      run evidence-pricerunner-balanced --data "$PRICERUNNER" "${BAL[@]}" ;;
    graph)
      FIRST=(--classifier hybrid --strategy random --strategy margin --strategy cluster-margin
             --strategy balanced-margin)
      run evidence-graph --data "$DATA" "${FIRST[@]}"
      run evidence-graph-rest --data "$DATA" --classifier hybrid --strategy least-confidence \
          --strategy entropy --strategy badge --strategy coreset --strategy margin+dedup \
          --strategy balanced-cluster-margin
      run evidence-pricerunner-graph --data "$PRICERUNNER" "${FIRST[@]}" ;;
    cold)
      for how in stratified random kmeans; do
        run "evidence-cold-$how" --data "$DATA" --classifier hybrid --strategy margin --strategy random \
            --initial-strategy "$how" --cycles 10 --no-ceiling
      done ;;
    *) echo "unknown run set: $what" >&2; exit 2 ;;
  esac
done
