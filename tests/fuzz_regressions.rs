//! Replays every input kept in tests/fuzz-regressions/TARGET/ through the checks of the fuzz
//! target TARGET (fuzz/checks.rs): inputs that once crashed, and edge cases found by the
//! property tests. A new crash from `fuzz/run.sh` goes into the folder of its target.

#[path = "../fuzz/checks.rs"]
#[allow(dead_code)]
mod checks;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = std::path::Path::new("tests/fuzz-regressions").join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    for input in inputs {
        let bytes = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        assert!(outcome.is_ok(), "{} fails its check", input.display());
    }
}

#[test]
fn model_from_json_inputs() {
    replay("model_from_json", checks::model_from_json);
}

#[test]
fn read_records_inputs() {
    replay("read_records", checks::read_records);
}

#[test]
fn split_sentences_inputs() {
    replay("split_sentences", checks::split_sentences_and_terms);
}
