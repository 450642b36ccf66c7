#!/usr/bin/env bash
# Trains the shipped model from data/train.csv with the settings chosen by cross-validation
# (see models/README.md). Rerunning it on the same data gives the same bytes.
#
# Usage: scripts/train-shipped-model.sh [OUTPUT]   (default: models/stancekit-news.json)
set -euo pipefail
cd "$(dirname "$0")/.."
output="${1:-models/stancekit-news.json}"
cargo run --release --quiet -- train \
    --data data/train.csv \
    --label-column stance --label-column sentiment \
    --alpha 0.1 --max-iterations 200 --negation-scope 10 \
    --output "$output"
