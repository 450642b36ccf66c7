#!/usr/bin/env bash
# Trains the shipped model from data/train.csv with the settings chosen by cross-validation
# (see models/README.md) and writes it twice: as JSON (readable, diffable) and in the binary
# format that is embedded in stancekit (the same model; it loads nearly twice as fast).
# Rerunning it on the same data gives the same bytes.
#
# Usage: scripts/train-shipped-model.sh [OUTPUT.json]   (default: models/stancekit-news.json;
#        the binary copy is written next to it, with the extension .bin)
set -euo pipefail
cd "$(dirname "$0")/.."
output="${1:-models/stancekit-news.json}"
case "$output" in
    *.json) ;;
    *) echo "usage: $0 [OUTPUT.json]" >&2; exit 2 ;;
esac
cargo run --release --quiet -- train \
    --data data/train.csv \
    --label-column stance --label-column sentiment \
    --alpha 0.1 --max-iterations 200 --negation-scope 10 --negation-replaces \
    --output "$output"
cargo run --release --quiet -- convert "$output" "${output%.json}.bin"
