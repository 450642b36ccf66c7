#!/usr/bin/env bash
# Builds the libFuzzer targets with the stable toolchain and runs one for a fixed time.
#
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags]
#   fuzz/run.sh all [SECONDS]        # every target in turn
#
# TARGET is model_from_json, read_records or split_sentences. cargo-fuzz would need a nightly
# toolchain for its default sanitizer; libFuzzer itself only needs the SanitizerCoverage
# instrumentation, which stable rustc gives through -C passes / -C llvm-args. --target keeps
# those flags off build scripts and proc macros. Seeds come from tests/fixtures and a small
# model trained on them; the corpus grows in fuzz/corpus/TARGET (not committed) and any crash
# is written to fuzz/artifacts/TARGET/. A crash input belongs in tests/fuzz_regressions.rs.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd .. && pwd)"
target="${1:?usage: fuzz/run.sh TARGET|all [SECONDS] [libFuzzer flags]}"
seconds="${2:-120}"
shift $(( $# >= 2 ? 2 : $# ))
triple="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo build --release --target "$triple" --bins
bin="$CARGO_TARGET_DIR/$triple/release"

seed() {
    local name="$1"
    mkdir -p "corpus/$name" "artifacts/$name"
    case "$name" in
        model_from_json)
            if [ ! -e corpus/model_from_json/small-model.json ]; then
                (cd "$root" && RUSTFLAGS= cargo run --quiet -- train --quiet \
                    --data tests/fixtures/small.csv --label-column stance --label-column sentiment \
                    --char-ngrams 2-3 --max-features 60 --output "$root/fuzz/corpus/model_from_json/small-model.json")
            fi ;;
        read_records)
            # The first byte picks the format (0 CSV, 1 TSV, 2 JSONL, 3 article; +4 label
            # columns, +8 repeated ids are an error).
            { printf '\x04'; head -c 3000 "$root/tests/fixtures/small.csv"; } > corpus/read_records/seed-csv
            { printf '\x06'; printf '{"id": 1, "text": "One.", "stance": "neutral", "sentiment": null}\n{"text": "Two"}\n'; } > corpus/read_records/seed-jsonl
            { printf '\x05'; printf 'id\ttext\tstance\tsentiment\n1\tHe said "no"\tneutral\tnegative\n'; } > corpus/read_records/seed-tsv
            { printf '\x03'; cat "$root/tests/fixtures/article.txt"; } > corpus/read_records/seed-article ;;
        split_sentences)
            cp "$root/tests/fixtures/article.txt" corpus/split_sentences/seed-article
            printf 'MOSCOW, June 17. /TASS/. The U.S. envoy met Mr. Smith on Jan. 5.\r\n\xe2\x80\x9cWe welcome it,\xe2\x80\x9d he said.' > corpus/split_sentences/seed-dateline ;;
    esac
}

run() {
    local name="$1"
    shift
    seed "$name"
    local max_len=16384
    [ "$name" = model_from_json ] && max_len=65536
    "$bin/$name" "corpus/$name" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=4096 -artifact_prefix="artifacts/$name/" -print_final_stats=1 "$@"
}

if [ "$target" = all ]; then
    for name in model_from_json read_records split_sentences; do
        run "$name" "$@"
    done
else
    run "$target" "$@"
fi
