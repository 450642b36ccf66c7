//! Criterion benches of stancekit's hot paths, per 1,000 sentences of data/test.csv with the
//! shipped model: tokenize + stem, vectorize (TF-IDF row), classify a vectorized row, and
//! predict end to end in the library (text to labels and probabilities of every head).
//!
//! Run: `cargo bench --bench hot_paths` (see BENCHMARKS.md). One thread throughout: the
//! parallel path is measured end to end by bench/run.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stancekit::model::Model;

const SENTENCES: usize = 1_000;

fn sentences() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/test.csv");
    let mut reader = csv::Reader::from_path(&path).expect("data/test.csv opens");
    let column = reader
        .headers()
        .expect("data/test.csv has a header")
        .iter()
        .position(|h| h == "text")
        .expect("data/test.csv has a text column");
    let texts: Vec<String> = reader
        .records()
        .map(|r| r.expect("data/test.csv parses")[column].to_string())
        .take(SENTENCES)
        .collect();
    assert_eq!(texts.len(), SENTENCES, "data/test.csv has at least {SENTENCES} rows");
    texts
}

fn hot_paths(c: &mut Criterion) {
    let model = Model::shipped().expect("the shipped model loads");
    let texts = sentences();
    let features = model.features();
    let tokenizer = features.tokenizer();
    let rows: Vec<_> = texts.iter().map(|t| features.transform_one(&tokenizer, t)).collect();

    let mut group = c.benchmark_group("per_1000_sentences");
    group.throughput(Throughput::Elements(SENTENCES as u64));

    group.bench_function("tokenize_stem", |b| {
        b.iter(|| {
            for text in &texts {
                black_box(tokenizer.tokens(black_box(text)));
            }
        })
    });

    group.bench_function("vectorize", |b| {
        b.iter(|| {
            for text in &texts {
                black_box(features.transform_one(&tokenizer, black_box(text)));
            }
        })
    });

    group.bench_function("classify_rows", |b| {
        b.iter(|| {
            for row in &rows {
                black_box(model.predict_row(black_box(row)));
            }
        })
    });

    group.bench_function("predict", |b| b.iter(|| black_box(model.predict(black_box(&texts)))));

    group.finish();

    // The shipped model is embedded in the binary format; its JSON twin is what `--model
    // models/stancekit-news.json` reads.
    c.bench_function("load_shipped_model", |b| b.iter(|| black_box(Model::shipped().unwrap())));
    let json = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/stancekit-news.json")).expect("the JSON model is committed");
    let name = std::path::Path::new("stancekit-news.json");
    c.bench_function("load_shipped_model_json", |b| b.iter(|| black_box(Model::from_bytes(black_box(&json), name).unwrap())));
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
