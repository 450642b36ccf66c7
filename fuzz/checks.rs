//! The checks of the fuzz targets, shared by the libFuzzer binaries (fuzz/fuzz_targets/) and by
//! tests/fuzz_regressions.rs, which replays every input kept in tests/fuzz-regressions/. Each
//! function must not panic on any input; a failed assertion is a bug.

use std::path::Path;

use stancekit::data::{Columns, DuplicateIds, InputFormat, RecordReader};
use stancekit::model::Model;
use stancekit::sentences::split_sentences;
use stancekit::text::{NgramRange, TextPipeline, Tokenizer};

/// Model loading: any bytes give a model or an error, never a panic or a hang; a model that
/// loads also predicts, explains and saves without panicking, and what it saves loads again and
/// saves to the same bytes.
pub fn model_from_json(data: &[u8]) {
    let name = Path::new("fuzz.json");
    let model = match Model::from_json(data, name) {
        Ok(model) => model,
        Err(error) => {
            assert!(error.to_string().starts_with("fuzz.json: "), "{error}");
            return;
        }
    };
    let texts = ["We are ready for talks if they stop the shelling.", "", "U.S. 1999 \u{1F600}"];
    let predictions = model.predict(&texts);
    assert_eq!(predictions.len(), texts.len());
    let tokenizer = model.features().tokenizer();
    for (row_predictions, text) in predictions.iter().zip(texts) {
        assert_eq!(row_predictions.len(), model.heads().len());
        let row = model.features().transform_one(&tokenizer, text);
        let explained = model.predict_row_explained(&row, 3);
        for (head, prediction) in model.heads().iter().zip(&explained) {
            assert!(prediction.label < head.classes().len());
            assert_eq!(prediction.probabilities.len(), head.classes().len());
            for class in 0..head.classes().len() {
                let _ = head.extreme_weights(class, 3);
            }
        }
    }
    let saved = model.to_json();
    match Model::from_json(&saved, name) {
        Ok(again) => assert!(again.to_json() == saved, "saving a loaded model again changes its bytes"),
        Err(error) => panic!("a loaded model saves to a file that does not load again: {error}"),
    }
}

/// The CSV, TSV, JSON Lines and article readers: any bytes give records or an error that names
/// the input, never a panic; every record has a non-empty trimmed text without NUL bytes, an
/// id, one entry per label column, and table lines only go forward. The first byte picks the
/// format (0 CSV, 1 TSV, 2 JSONL, 3 article; +4 label columns, +8 repeated ids are an error).
pub fn read_records(data: &[u8]) {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let format = match selector % 4 {
        0 => InputFormat::Csv,
        1 => InputFormat::Tsv,
        2 => InputFormat::Jsonl,
        _ => InputFormat::Text,
    };
    let mut columns = Columns::text_only("text", "id");
    if selector & 4 != 0 && format != InputFormat::Text {
        columns.labels = vec!["stance".into(), "sentiment".into()];
    }
    let policy = if selector & 8 != 0 { DuplicateIds::Error } else { DuplicateIds::Allow };
    let input = Box::new(std::io::Cursor::new(input.to_vec()));
    let reader = match RecordReader::from_reader(input, "fuzz-input", format, &columns) {
        Ok(reader) => reader.duplicate_ids(policy),
        Err(error) => {
            assert!(error.to_string().starts_with("fuzz-input"), "{error}");
            return;
        }
    };
    let mut previous_line = 0;
    for item in reader.take(1_000_000) {
        match item {
            Ok(record) => {
                assert!(!record.text.is_empty());
                assert!(!record.text.contains('\0'));
                assert_eq!(record.text, record.text.trim());
                assert!(!record.id.is_empty());
                assert_eq!(record.labels.len(), columns.labels.len());
                assert!(record.line >= 1);
                if format != InputFormat::Text {
                    assert!(record.line > previous_line, "line {} after {previous_line}", record.line);
                } else {
                    assert!(record.line >= previous_line, "line {} after {previous_line}", record.line);
                }
                previous_line = record.line;
            }
            Err(error) => {
                assert!(error.to_string().starts_with("fuzz-input"), "{error}");
                break;
            }
        }
    }
}

/// The sentence splitter and the tokenizer: any text gives sentences whose offsets are char
/// boundaries, in order, without overlap, each equal to its slice of the article, with only
/// whitespace between them and none across a line end; terms come out the same twice.
pub fn split_sentences_and_terms(data: &[u8]) {
    let article = String::from_utf8_lossy(data);
    let sentences = split_sentences(&article);
    let mut previous_end = 0;
    for sentence in &sentences {
        assert!(sentence.start >= previous_end, "sentences overlap");
        assert!(sentence.start < sentence.end, "empty sentence");
        assert!(article.is_char_boundary(sentence.start) && article.is_char_boundary(sentence.end));
        assert_eq!(&article[sentence.start..sentence.end], sentence.text);
        assert_eq!(sentence.text, sentence.text.trim());
        assert!(article[previous_end..sentence.start].trim().is_empty(), "text lost");
        assert!(!sentence.text.contains('\n'), "a sentence across a line end");
        previous_end = sentence.end;
    }
    assert!(article[previous_end..].trim().is_empty(), "text lost at the end");
    assert_eq!(sentences, split_sentences(&article));

    let pipeline = TextPipeline {
        char_ngrams: Some(NgramRange::new(1, 5).unwrap()),
        word_ngrams: NgramRange::new(1, 3).unwrap(),
        ..TextPipeline::default()
    };
    let tokenizer = Tokenizer::new(&pipeline);
    for sentence in sentences.iter().take(64) {
        let terms = tokenizer.terms(sentence.text);
        assert_eq!(terms, tokenizer.terms(sentence.text));
        assert!(terms.iter().all(|t| t.starts_with("w:") || t.starts_with("c:")));
    }
    for token in tokenizer.tokens(&article) {
        assert!(!token.is_empty() && !token.chars().any(char::is_whitespace), "{token:?}");
    }
}
