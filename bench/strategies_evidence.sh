#!/usr/bin/env bash
# The runs behind docs/strategies.md: every strategy, 5 seeds, on the amazon-in titles, with the
# frozen encoder and with TF-IDF; then the three cold starts. Writes to runs/evidence-*.
set -euo pipefail
DATA=${DATA:-../shared/data/amazon-in-products/amazon_in_products.parquet}
ALLOOP=${ALLOOP:-.venv/bin/alloop}
ALL=(--strategy random --strategy least-confidence --strategy entropy --strategy margin
     --strategy badge --strategy coreset --strategy cluster-margin --strategy margin+dedup)
run() { local name=$1; shift; [ -f "runs/$name/report.html" ] || "$ALLOOP" run --data "$DATA" --seeds 5 \
    --initial 100 --query-size 50 "$@" --out "runs/$name"; }
case "${1:-all}" in
  bert-frozen|all) run evidence-bert-frozen --classifier bert-frozen "${ALL[@]}" --cycles 20 ;;&
  tfidf|all) run evidence-tfidf --classifier tfidf "${ALL[@]}" --cycles 10 ;;&
  cold|all)
    for how in stratified random kmeans; do
      run "evidence-cold-$how" --classifier bert-frozen --strategy margin --strategy random \
          --initial-strategy "$how" --cycles 10 --no-ceiling
    done ;;
esac
