//! libFuzzer target: see `split_sentences_and_terms` in fuzz/checks.rs.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::split_sentences_and_terms(data));
