//! The bad-input catalogue (issue #7): every odd or broken input a user may feed stancekit, run
//! through the real binary. Each failure must exit with status 2, say on standard error which
//! file (and line, where there is one) and what is wrong, never panic, and leave no partial or
//! changed output file. Each odd but valid input must simply work.
//!
//! Some cases are also in tests/cli.rs; this file is meant to hold the whole list.

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;

use common::{stancekit, temporary_files};
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/small.csv";
const ARTICLE: &str = "tests/fixtures/article.txt";
/// What a pre-existing output file holds before a run that must not touch it.
const PREVIOUS: &[u8] = b"the previous model\n";

/// A model trained once on the fixture for all the tests of this file.
fn model() -> &'static Path {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let path = dir.join("fixture-model.json");
        stancekit()
            .args(["train", "--quiet", "--data", FIXTURE, "--label-column", "stance", "--label-column", "sentiment"])
            .args(["--min-df", "1", "--alpha", "0.1", "--output"])
            .arg(&path)
            .assert()
            .success();
        path
    })
}

/// A scratch directory with files in it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Names of temporary files left in the directory.
    fn leftovers(&self) -> Vec<String> {
        temporary_files(self.dir.path())
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Checks a failed run: status 2, every needle in the message, no panic, and our own error
/// prefix (not a usage error).
fn check_failure(output: &Output, needles: &[&str]) -> String {
    let stderr = common::check_failure(output, needles);
    assert!(stderr.starts_with("stancekit: error: "), "{stderr}");
    stderr
}

/// Trains on `data` into an output file that already holds [`PREVIOUS`]; the run must fail
/// with `needles` in the message and leave that file as it was, with no temporary file beside.
fn train_fails(scratch: &Scratch, data: &Path, extra: &[&str], needles: &[&str]) -> String {
    let output_path = scratch.path("model.json");
    std::fs::write(&output_path, PREVIOUS).unwrap();
    let output = stancekit()
        .args(["train", "--label-column", "stance", "--min-df", "1", "--data"])
        .arg(data)
        .arg("--output")
        .arg(&output_path)
        .args(extra)
        .output()
        .unwrap();
    let stderr = check_failure(&output, needles);
    assert_eq!(std::fs::read(&output_path).unwrap(), PREVIOUS, "the output file was changed");
    assert!(scratch.leftovers().is_empty(), "{:?}", scratch.leftovers());
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    stderr
}

/// Trains on `data` (labels: stance) into a fresh output file and returns stdout.
fn train_works(scratch: &Scratch, data: &Path, extra: &[&str]) -> String {
    let output_path = scratch.path("model.json");
    let output = stancekit()
        .args(["train", "--label-column", "stance", "--min-df", "1", "--data"])
        .arg(data)
        .arg("--output")
        .arg(&output_path)
        .args(extra)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output_path.exists());
    text(&output.stdout)
}

/// Runs `predict --format jsonl` on `inputs` with the fixture model; it must fail with
/// `needles`, no panic and nothing on standard output.
fn predict_fails(inputs: &[&Path], needles: &[&str]) -> String {
    let output = stancekit()
        .args(["predict", "--format", "jsonl", "--model"])
        .arg(model())
        .args(inputs)
        .output()
        .unwrap();
    let stderr = check_failure(&output, needles);
    assert!(output.stdout.is_empty(), "partial output: {}", text(&output.stdout));
    stderr
}

/// Runs `predict --format jsonl` with the fixture model and returns the records and stderr.
fn predict_works(inputs: &[&Path]) -> (Vec<Value>, String) {
    let output = stancekit()
        .args(["predict", "--format", "jsonl", "--model"])
        .arg(model())
        .args(inputs)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let records = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (records, stderr)
}

/// Runs `eval` of the fixture model on `data`; it must fail with `needles`.
fn eval_fails(data: &Path, needles: &[&str]) -> String {
    let output = stancekit()
        .args(["eval", "--model"])
        .arg(model())
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    let stderr = check_failure(&output, needles);
    assert!(output.stdout.is_empty(), "partial output: {}", text(&output.stdout));
    stderr
}

/// Runs `predict` with the model file `model`; it must fail with `needles`.
fn model_fails(model: &Path, needles: &[&str]) {
    for command in [&["predict", "--format", "jsonl", ARTICLE][..], &["explain"][..]] {
        let output = stancekit()
            .args(command)
            .arg("--model")
            .arg(model)
            .output()
            .unwrap();
        check_failure(&output, needles);
        assert!(output.stdout.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Empty and header-only files

#[test]
fn empty_csv_file() {
    let s = Scratch::new();
    let data = s.write("empty.csv", b"");
    train_fails(&s, &data, &[], &["empty.csv", "is empty: expected a header row"]);
    predict_fails(&[&data], &["empty.csv", "is empty"]);
}

#[test]
fn empty_jsonl_file() {
    let s = Scratch::new();
    let data = s.write("empty.jsonl", b"\n\n");
    train_fails(&s, &data, &[], &["empty.jsonl", "has no data rows"]);
    eval_fails(&data, &["empty.jsonl", "has no data rows"]);
}

#[test]
fn empty_article_gives_no_sentences_and_no_error() {
    let s = Scratch::new();
    let article = s.write("empty.txt", b"\n  \n");
    let (records, _) = predict_works(&[&article]);
    assert!(records.is_empty());
}

#[test]
fn header_only_csv() {
    let s = Scratch::new();
    let data = s.write("header.csv", b"id,text,stance\n");
    train_fails(&s, &data, &[], &["header.csv", "has no data rows"]);
    eval_fails(&data, &["header.csv", "has no data rows"]);
}

// ---------------------------------------------------------------------------------------------
// Columns

#[test]
fn missing_text_column_lists_the_columns_found() {
    let s = Scratch::new();
    let data = s.write("nocol.csv", b"id,sentence,stance\n1,Hello there,neutral\n");
    train_fails(&s, &data, &[], &["nocol.csv", "no text column 'text'", "columns found: id, sentence, stance"]);
    predict_fails(&[&data], &["nocol.csv", "no text column 'text'", "columns found: id, sentence, stance"]);
}

#[test]
fn missing_label_column_lists_the_columns_found() {
    let s = Scratch::new();
    let data = s.write("nolabel.tsv", b"id\ttext\tsentiment\n1\tHello there\tneutral\n");
    train_fails(&s, &data, &[], &["nolabel.tsv", "no label column 'stance'", "columns found: id, text, sentiment"]);
    let neither = s.write("neither.tsv", b"id\ttext\ttopic\n1\tHello there\tgrain\n");
    eval_fails(&neither, &["neither.tsv", "no column for any head", "columns found: id, text, topic"]);
}

#[test]
fn missing_text_field_in_jsonl_lists_the_fields_found() {
    let s = Scratch::new();
    let data = s.write("nofield.jsonl", b"{\"sentence\": \"Hello\", \"stance\": \"neutral\"}\n");
    train_fails(&s, &data, &[], &["nofield.jsonl line 1", "no text field 'text'", "fields found: sentence, stance"]);
}

#[test]
fn ragged_csv_row() {
    let s = Scratch::new();
    let data = s.write("ragged.csv", b"text,stance\nfine,neutral\nnot fine,neutral,extra\n");
    train_fails(&s, &data, &[], &["ragged.csv line 3", "3 fields where the header has 2"]);
}

// ---------------------------------------------------------------------------------------------
// Rows and labels

#[test]
fn empty_text_row() {
    let s = Scratch::new();
    let data = s.write("blank.csv", b"text,stance\nA fine sentence.,neutral\n   ,accusatory\n");
    train_fails(&s, &data, &[], &["blank.csv line 3", "the text is empty"]);
    predict_fails(&[&data], &["blank.csv line 3", "the text is empty"]);
    let jsonl = s.write("blank.jsonl", b"{\"text\": \"ok\", \"stance\": \"a\"}\n{\"text\": \"\", \"stance\": \"b\"}\n");
    train_fails(&s, &jsonl, &[], &["blank.jsonl line 2", "the text is empty"]);
}

#[test]
fn a_label_seen_once_trains() {
    let s = Scratch::new();
    let mut rows = std::fs::read_to_string(FIXTURE).unwrap();
    rows.push_str("f99,\"They called the delegation hostile and unwelcome.\",hostile,negative\n");
    let data = s.write("once.csv", rows);
    let stdout = train_works(&s, &data, &[]);
    assert!(stdout.contains("head stance: 5 classes, 49 rows"), "{stdout}");
    assert!(stdout.contains("hostile 1"), "{stdout}");
}

#[test]
fn only_one_class_for_a_head() {
    let s = Scratch::new();
    let data = s.write("oneclass.csv", b"text,stance\nA b,neutral\nA c,neutral\nB d,neutral\n");
    train_fails(&s, &data, &[], &["stance", "oneclass.csv", "all 3 labeled rows", "'neutral'", "at least two classes"]);
}

#[test]
fn a_head_column_that_is_entirely_empty() {
    let s = Scratch::new();
    let data = s.write("emptyhead.csv", b"text,stance,sentiment\nA b,,neutral\nA c,,negative\n");
    train_fails(&s, &data, &[], &["stance", "emptyhead.csv", "empty in every row"]);
    eval_fails(&data, &["emptyhead.csv", "'stance' is empty in every row"]);
}

#[test]
fn unknown_labels_in_eval_are_listed_with_their_lines() {
    let s = Scratch::new();
    let data = s.write("unknown.csv", b"text,stance\nA sentence.,hostile\nAnother.,neutral\nThird.,friendly\nFourth.,hostile\n");
    eval_fails(
        &data,
        &["unknown.csv", "'friendly' (line 4)", "'hostile' (line 2, 5)", "accusatory, conciliatory, conditional, neutral"],
    );
}

// ---------------------------------------------------------------------------------------------
// Duplicate ids: an error in train and eval, a warning in predict (see data::DuplicateIds).

fn duplicate_ids(s: &Scratch) -> PathBuf {
    let mut rows = std::fs::read_to_string(FIXTURE).unwrap();
    rows.push_str("f03,\"The talks resumed in Geneva on Monday.\",neutral,neutral\n");
    s.write("dups.csv", rows)
}

#[test]
fn duplicate_ids_are_an_error_in_train() {
    let s = Scratch::new();
    let data = duplicate_ids(&s);
    train_fails(&s, &data, &[], &["dups.csv line 50", "the id 'f03' is also on line 4", "unique"]);
}

#[test]
fn duplicate_ids_are_an_error_in_eval() {
    let s = Scratch::new();
    let data = duplicate_ids(&s);
    eval_fails(&data, &["dups.csv line 50", "the id 'f03' is also on line 4"]);
    let jsonl = s.write("dups.jsonl", b"{\"id\": 7, \"text\": \"One.\", \"stance\": \"neutral\"}\n{\"id\": 7, \"text\": \"Two.\", \"stance\": \"neutral\"}\n");
    eval_fails(&jsonl, &["dups.jsonl line 2", "the id '7' is also on line 1"]);
}

#[test]
fn duplicate_ids_are_a_warning_in_predict() {
    let s = Scratch::new();
    let data = duplicate_ids(&s);
    let (records, stderr) = predict_works(&[&data]);
    assert_eq!(records.len(), 49, "every row is still labeled");
    assert_eq!(records[2]["id"], "f03");
    assert_eq!(records[48]["id"], "f03");
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(stderr.contains("dups.csv"), "{stderr}");
    assert!(stderr.contains("'f03' on lines 4 and 50"), "{stderr}");
    // Rows without an id column value get their row number; those never count as repeats.
    let blank_ids = s.write("blank-ids.csv", b"id,text\n,One.\n,Two.\n");
    let (records, stderr) = predict_works(&[&blank_ids]);
    assert_eq!(records.len(), 2);
    assert!(stderr.is_empty(), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Encodings, line ends and bytes

#[test]
fn non_utf8_bytes_in_a_csv() {
    let s = Scratch::new();
    let data = s.write("latin1.csv", b"text,stance\nfine,neutral\nA caf\xe9 here,neutral\n");
    train_fails(&s, &data, &[], &["latin1.csv line 3", "not valid UTF-8", "re-save the file as UTF-8"]);
    predict_fails(&[&data], &["latin1.csv line 3", "UTF-8"]);
}

#[test]
fn non_utf8_bytes_in_jsonl_and_articles() {
    let s = Scratch::new();
    let jsonl = s.write("latin1.jsonl", b"{\"text\": \"ok\"}\n{\"text\": \"caf\xe9\"}\n");
    predict_fails(&[&jsonl], &["latin1.jsonl line 2", "not valid UTF-8"]);
    let article = s.write("latin1.txt", b"First line.\nSecond line.\nA caf\xe9.\n");
    predict_fails(&[&article], &["latin1.txt line 3", "not valid UTF-8"]);
}

#[test]
fn utf8_byte_order_mark_is_ignored() {
    let s = Scratch::new();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(std::fs::read(FIXTURE).unwrap());
    let data = s.write("bom.csv", &bytes);
    let stdout = train_works(&s, &data, &[]);
    assert!(stdout.contains("48 rows"), "{stdout}");
    let article = s.write("bom.txt", b"\xEF\xBB\xBFFirst sentence here. Second one.");
    let (records, _) = predict_works(&[&article]);
    assert_eq!(records[0]["text"], "First sentence here.");
    let jsonl = s.write("bom.jsonl", b"\xEF\xBB\xBF{\"text\": \"One.\"}\n");
    let (records, _) = predict_works(&[&jsonl]);
    assert_eq!(records[0]["text"], "One.");
}

#[test]
fn windows_line_ends_in_tables() {
    let s = Scratch::new();
    let crlf = std::fs::read_to_string(FIXTURE).unwrap().replace('\n', "\r\n");
    let data = s.write("crlf.csv", crlf);
    let stdout = train_works(&s, &data, &[]);
    assert!(stdout.contains("48 rows"), "{stdout}");
    // Line numbers in messages are right with CRLF too.
    let bad = s.write("crlf-bad.csv", b"text,stance\r\nfine,neutral\r\n ,neutral\r\n");
    train_fails(&s, &bad, &[], &["crlf-bad.csv line 3", "the text is empty"]);
    let jsonl = s.write("crlf.jsonl", b"{\"text\": \"One.\"}\r\n{\"text\": \"Two.\"}\r\n");
    let (records, _) = predict_works(&[&jsonl]);
    assert_eq!(records[1]["text"], "Two.");
}

#[test]
fn nul_bytes() {
    let s = Scratch::new();
    let data = s.write("nul.csv", b"text,stance\nA \0 b,neutral\n");
    train_fails(&s, &data, &[], &["nul.csv line 2", "NUL byte"]);
    let article = s.write("binary.txt", b"Some text.\n\0\0\0\x01\x02");
    predict_fails(&[&article], &["binary.txt line 2", "NUL byte", "binary file"]);
}

#[test]
fn a_ten_megabyte_single_line() {
    let s = Scratch::new();
    // An article of 10 MB on one line: many sentences, no newline at all.
    let sentence = "The delegations met again in Vienna and agreed to continue the talks. ";
    let line = sentence.repeat(10_000_000 / sentence.len() + 1);
    let article = s.write("long-line.txt", &line);
    let started = Instant::now();
    let output = stancekit()
        .args(["predict", "--format", "csv", "--model"])
        .arg(model())
        .arg(&article)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows = text(&output.stdout).lines().count() - 1;
    assert_eq!(rows, line.len() / sentence.len());
    assert!(started.elapsed() < Duration::from_secs(120));
    // A 10 MB sentence in a table (one CSV field), without a final newline.
    let field = "word ".repeat(2_000_000);
    let table = s.write("long-field.csv", format!("id,text\nx1,{field}"));
    let (records, _) = predict_works(&[&table]);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["text"].as_str().unwrap().len(), field.trim().len());
    // A broken 10 MB JSON line is reported on its line.
    let jsonl = s.write("long.jsonl", format!("{{\"text\": \"{}", "a".repeat(10_000_000)));
    predict_fails(&[&jsonl], &["long.jsonl line 1", "not valid JSON"]);
}

// ---------------------------------------------------------------------------------------------
// Quoting and JSON Lines

#[test]
fn a_quote_left_open_in_the_last_column() {
    let s = Scratch::new();
    // The csv reader would swallow every later row into the text of line 3.
    let data = s.write(
        "open-quote.csv",
        b"id,stance,text\n1,neutral,The talks resumed.\n2,neutral,\"They said no.\n3,accusatory,They lied.\n4,neutral,Fine.\n",
    );
    train_fails(&s, &data, &[], &["open-quote.csv line 3", "the quote opened on line 3 is never closed"]);
    predict_fails(&[&data], &["open-quote.csv line 3", "the quote opened on line 3 is never closed"]);
}

#[test]
fn a_quote_left_open_in_a_middle_column_or_the_header() {
    let s = Scratch::new();
    let data = s.write(
        "open-mid.csv",
        b"text,stance\nOne.,neutral\nTwo.,neutral\n\"Three, they said,neutral\nFour.,neutral\n",
    );
    train_fails(&s, &data, &[], &["open-mid.csv line 4", "the quote opened on line 4 is never closed"]);
    let header = s.write("open-header.csv", b"\"text,stance\nOne.,neutral\n");
    train_fails(&s, &header, &[], &["open-header.csv line 1", "the quote opened on line 1 is never closed"]);
    // Quotes that are closed, doubled, or inside an unquoted field are fine.
    let fine = s.write(
        "quotes.csv",
        "text,stance\n\"He said \"\"no\"\", twice\",accusatory\nA 5\" screen,neutral\n\"multi\nline\",neutral\n",
    );
    let (records, _) = predict_works(&[&fine]);
    assert_eq!(records[0]["text"], "He said \"no\", twice");
    assert_eq!(records[1]["text"], "A 5\" screen");
    assert_eq!(records[2]["text"], "multi\nline");
}

#[test]
fn jsonl_with_a_broken_line() {
    let s = Scratch::new();
    let data = s.write(
        "broken.jsonl",
        b"{\"text\": \"One.\", \"stance\": \"neutral\"}\n\n{\"text\": \"Two.\", \"stance\": \"neutral\"\n",
    );
    train_fails(&s, &data, &[], &["broken.jsonl line 3", "not valid JSON"]);
    predict_fails(&[&data], &["broken.jsonl line 3", "not valid JSON"]);
    let array = s.write("array.jsonl", b"[\"text\", \"One.\"]\n");
    predict_fails(&[&array], &["array.jsonl line 1", "expected a JSON object"]);
    let number = s.write("label.jsonl", b"{\"text\": \"One.\", \"stance\": 3}\n");
    train_fails(&s, &number, &[], &["label.jsonl line 1", "label 'stance' is not a string"]);
}

// ---------------------------------------------------------------------------------------------
// Model files

#[test]
fn model_file_empty() {
    let s = Scratch::new();
    model_fails(&s.write("empty.json", b""), &["empty.json", "is empty, not a stancekit model"]);
}

#[test]
fn model_file_truncated() {
    let s = Scratch::new();
    let good = std::fs::read(model()).unwrap();
    model_fails(&s.write("cut.json", &good[..good.len() * 2 / 3]), &["cut.json", "is truncated"]);
}

#[test]
fn model_file_not_json() {
    let s = Scratch::new();
    model_fails(&s.write("notjson.json", b"PK\x03\x04 this is a zip"), &["notjson.json", "not valid JSON"]);
    model_fails(&s.write("latin1.json", b"{\"format\": \"caf\xe9\"}"), &["latin1.json", "not a stancekit model"]);
}

#[test]
fn model_file_from_another_program() {
    let s = Scratch::new();
    model_fails(
        &s.write("fasttext.json", b"{\"name\": \"fastText\", \"dim\": 100}"),
        &["fasttext.json", "no \"format\": \"stancekit-model\" field"],
    );
    model_fails(
        &s.write("sklearn.json", b"{\"format\": \"sklearn-pipeline\", \"format_version\": 1}"),
        &["sklearn.json", "'sklearn-pipeline' file"],
    );
    model_fails(&s.write("list.json", b"[1, 2, 3]"), &["list.json", "not a stancekit model"]);
}

#[test]
fn model_file_from_a_newer_version() {
    let s = Scratch::new();
    let good = std::fs::read_to_string(model()).unwrap();
    let newer = good
        .replacen("\"format_version\":1", "\"format_version\":3", 1)
        .replacen("\"features\":", "\"features_v3\":", 1);
    model_fails(&s.write("newer.json", newer), &["newer.json", "format version 3", "upgrade stancekit"]);
}

#[test]
fn model_file_damaged_inside() {
    let s = Scratch::new();
    let good: Value = serde_json::from_slice(&std::fs::read(model()).unwrap()).unwrap();
    let mut idf = good.clone();
    idf["features"]["idf"].as_array_mut().unwrap().pop();
    model_fails(&s.write("idf.json", idf.to_string()), &["idf.json", "is damaged", "idf"]);
    let mut ngrams = good.clone();
    ngrams["features"]["pipeline"]["word_ngrams"]["min"] = 0.into();
    model_fails(&s.write("ngrams.json", ngrams.to_string()), &["ngrams.json", "n-gram range 0-2 is invalid"]);
    let mut huge = good.clone();
    huge["features"]["pipeline"]["word_ngrams"]["max"] = u64::MAX.into();
    model_fails(&s.write("huge.json", huge.to_string()), &["huge.json", "is invalid"]);
    let mut heads = good.clone();
    let first = heads["heads"][0].clone();
    heads["heads"].as_array_mut().unwrap().push(first);
    model_fails(&s.write("heads.json", heads.to_string()), &["heads.json", "is damaged", "two heads named 'stance'"]);
    let mut no_heads = good;
    no_heads["heads"] = Value::Array(Vec::new());
    model_fails(&s.write("noheads.json", no_heads.to_string()), &["noheads.json", "has no heads"]);
}

// ---------------------------------------------------------------------------------------------
// Paths

#[test]
fn a_directory_where_a_file_is_expected() {
    let s = Scratch::new();
    let dir = s.path("folder.csv");
    std::fs::create_dir(&dir).unwrap();
    train_fails(&s, &dir, &[], &["folder.csv", "is a directory"]);
    predict_fails(&[&dir], &["folder.csv", "is a directory"]);
    eval_fails(&dir, &["folder.csv", "is a directory"]);
    model_fails(&dir, &["folder.csv", "is a directory"]);
    // The output is a directory.
    let output = stancekit()
        .args(["train", "--label-column", "stance", "--min-df", "1", "--data", FIXTURE, "--output"])
        .arg(&dir)
        .output()
        .unwrap();
    check_failure(&output, &["folder.csv", "is a directory"]);
    assert!(dir.is_dir());
}

#[test]
fn a_missing_input_file() {
    let s = Scratch::new();
    let missing = s.path("nope.csv");
    train_fails(&s, &missing, &[], &["nope.csv", "No such file"]);
    predict_fails(&[&missing], &["nope.csv", "does not exist"]);
    model_fails(&missing, &["nope.csv", "No such file"]);
}

#[test]
fn an_unwritable_output_path() {
    let s = Scratch::new();
    // Tests may run as root, who may write anywhere; a path below a plain file is unwritable
    // for everyone.
    let file = s.write("plain-file", b"x");
    let output = stancekit()
        .args(["train", "--quiet", "--label-column", "stance", "--min-df", "1", "--data", FIXTURE, "--output"])
        .arg(file.join("model.json"))
        .output()
        .unwrap();
    check_failure(&output, &["plain-file/model.json", "Not a directory"]);
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    let output = stancekit()
        .args(["train", "--quiet", "--label-column", "stance", "--min-df", "1", "--data", FIXTURE, "--output"])
        .arg(s.path("no-such-dir/model.json"))
        .output()
        .unwrap();
    check_failure(&output, &["no-such-dir/model.json", "No such file or directory"]);
    assert!(s.leftovers().is_empty());
}

#[test]
fn the_output_path_equal_to_the_input_path() {
    let s = Scratch::new();
    let data = s.write("data.csv", std::fs::read(FIXTURE).unwrap());
    let before = std::fs::read(&data).unwrap();
    for spelling in [data.clone(), s.path("./sub/../data.csv")] {
        std::fs::create_dir_all(s.path("sub")).unwrap();
        let output = stancekit()
            .args(["train", "--label-column", "stance", "--data"])
            .arg(&data)
            .arg("--output")
            .arg(&spelling)
            .output()
            .unwrap();
        check_failure(&output, &["is the training file itself"]);
        assert_eq!(std::fs::read(&data).unwrap(), before);
    }
    // Through a symbolic link too.
    #[cfg(unix)]
    {
        let link = s.path("link.csv");
        std::os::unix::fs::symlink(&data, &link).unwrap();
        let output = stancekit()
            .args(["train", "--label-column", "stance", "--data"])
            .arg(&data)
            .arg("--output")
            .arg(&link)
            .output()
            .unwrap();
        check_failure(&output, &["is the training file itself"]);
        assert_eq!(std::fs::read(&data).unwrap(), before);
    }
}

// ---------------------------------------------------------------------------------------------
// Limits and interruptions

#[test]
fn the_memory_budget_names_the_size_and_what_would_fit() {
    let s = Scratch::new();
    let output_path = s.path("model.json");
    std::fs::write(&output_path, PREVIOUS).unwrap();
    let output = stancekit()
        .env("STANCEKIT_MEMORY_BUDGET", "20K")
        .args(["train", "--label-column", "stance", "--label-column", "sentiment", "--min-df", "1", "--data", FIXTURE])
        .arg("--output")
        .arg(&output_path)
        .output()
        .unwrap();
    let stderr = check_failure(
        &output,
        &["small.csv", "would need", "48 rows x", "memory budget of 20.00 KiB", "708 features", "--max-features 48", "--min-df 3 (keeps 41 terms)"],
    );
    assert_eq!(std::fs::read(&output_path).unwrap(), PREVIOUS, "{stderr}");
    // The suggested setting does fit.
    stancekit()
        .env("STANCEKIT_MEMORY_BUDGET", "20K")
        .args(["train", "--quiet", "--label-column", "stance", "--label-column", "sentiment", "--min-df", "1"])
        .args(["--max-features", "48", "--data", FIXTURE, "--output"])
        .arg(&output_path)
        .assert()
        .success();
    // Balanced class weights count their replicated rows.
    let output = stancekit()
        .env("STANCEKIT_MEMORY_BUDGET", "12K")
        .args(["train", "--label-column", "stance", "--min-df", "1", "--class-weight", "balanced"])
        .args(["--max-features", "40", "--data", FIXTURE, "--output"])
        .arg(s.path("other.json"))
        .output()
        .unwrap();
    check_failure(&output, &["replicated for --class-weight balanced", "--class-weight none"]);
    let output = stancekit()
        .env("STANCEKIT_MEMORY_BUDGET", "lots")
        .args(["train", "--label-column", "stance", "--data", FIXTURE, "--output"])
        .arg(s.path("other.json"))
        .output()
        .unwrap();
    check_failure(&output, &["STANCEKIT_MEMORY_BUDGET='lots' is not a size"]);
}

/// A training file big enough that training takes a few seconds.
fn big_training_file(s: &Scratch) -> PathBuf {
    let words: Vec<&str> = "the minister accused neighbouring government shelling villages talks resume \
        welcome agreement ready extend corridor ships inspections broken promise delegation \
        sanctions withdraw only if unless ceasefire violated lied world statement grain vienna \
        envoy said condemned praised warned conditional support dialogue threat border army"
        .split_whitespace()
        .collect();
    let classes = ["accusatory", "conciliatory", "conditional", "neutral"];
    let mut state: u64 = 7;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut csv = String::from("text,stance\n");
    for _ in 0..30_000 {
        let class = next() % classes.len();
        let length = 8 + next() % 12;
        let sentence: Vec<&str> = (0..length).map(|i| words[(next() + class * i) % words.len()]).collect();
        csv.push_str(&format!("{},{}\n", sentence.join(" "), classes[class]));
    }
    s.write("big.csv", csv)
}

#[cfg(unix)]
#[test]
fn an_interrupted_training_leaves_the_previous_model_intact() {
    use std::os::unix::process::ExitStatusExt;
    let s = Scratch::new();
    let data = big_training_file(&s);
    let output_path = s.path("model.json");
    let previous = std::fs::read(model()).unwrap();
    std::fs::write(&output_path, &previous).unwrap();
    // Interrupted while reading and fitting the vocabulary, then while fitting the classifier
    // (this run needs minutes to finish).
    for delay in [Duration::from_millis(300), Duration::from_secs(5)] {
        let mut command = StdCommand::new(assert_cmd::cargo::cargo_bin("stancekit"));
        command
            .args(["train", "--label-column", "stance", "--word-ngrams", "1-3", "--min-df", "1"])
            .args(["--max-features", "3000", "--max-iterations", "100000", "--tolerance", "1e-12", "--data"])
            .arg(&data)
            .arg("--output")
            .arg(&output_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A SIGINT ignored by whoever started the tests would be ignored by the child too (the
        // disposition survives exec), and the interrupted run would go on for minutes: give the
        // child the default action, as a terminal's Ctrl-C meets it.
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = command.spawn().unwrap();
        std::thread::sleep(delay);
        assert!(child.try_wait().unwrap().is_none(), "training ended before it could be interrupted");
        let status = StdCommand::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = child.wait_with_output().unwrap();
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            output.status.signal() == Some(2) || output.status.code() == Some(130),
            "{:?}: {stderr}",
            output.status
        );
        assert!(std::fs::read(&output_path).unwrap() == previous, "the previous model was changed");
        assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    }
}

// ---------------------------------------------------------------------------------------------
// Odd but valid input works

#[test]
fn unicode_punctuation_and_quotes() {
    let s = Scratch::new();
    let article = s.write(
        "quotes.txt",
        "\u{201C}We are ready \u{2014} if they are,\u{201D} she said. \u{00AB}Non!\u{00BB} he replied\u{2026} \
         \u{2018}Maybe,\u{2019} said the envoy. It\u{2019}s over\u{203D} The talks end\u{3002}\n",
    );
    let (records, _) = predict_works(&[&article]);
    let texts: Vec<&str> = records.iter().map(|r| r["text"].as_str().unwrap()).collect();
    assert!(texts.len() >= 4, "{texts:?}");
    assert_eq!(texts[0], "\u{201C}We are ready \u{2014} if they are,\u{201D} she said.");
    assert_eq!(texts.concat().chars().filter(|c| !c.is_whitespace()).count(),
        std::fs::read_to_string(&article).unwrap().chars().filter(|c| !c.is_whitespace()).count());
}

#[test]
fn emoji() {
    let s = Scratch::new();
    let article = s.write("emoji.txt", "We welcome the deal \u{1F91D}\u{1F3FD}! They lied again \u{1F621}. \u{1F1FA}\u{1F1E6} \u{1F44D}\n");
    let (records, _) = predict_works(&[&article]);
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(records[0]["text"], "We welcome the deal \u{1F91D}\u{1F3FD}!");
    let table = s.write("emoji.csv", "text,stance\n\u{1F621}\u{1F621},accusatory\n\u{1F91D} deal,conciliatory\n\u{1F91D}\u{1F91D},conciliatory\nno \u{1F621},accusatory\n");
    train_works(&s, &table, &[]);
}

#[test]
fn right_to_left_text() {
    let s = Scratch::new();
    let article = s.write(
        "rtl.txt",
        "\u{0627}\u{0644}\u{0645}\u{0641}\u{0627}\u{0648}\u{0636}\u{0627}\u{062A} \u{0633}\u{062A}\u{0633}\u{062A}\u{0623}\u{0646}\u{0641}. \
         \u{05D4}\u{05E9}\u{05D9}\u{05D7}\u{05D5}\u{05EA} \u{05E0}\u{05DE}\u{05E9}\u{05DB}\u{05D5}\u{05EA}? \u{202B}mixed \u{05E2}\u{05D1}\u{05E8}\u{05D9}\u{05EA}\u{202C} text\n",
    );
    let (records, _) = predict_works(&[&article]);
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(records[0]["text"].as_str().unwrap().starts_with('\u{0627}'));
    for record in &records {
        assert!(record["stance"]["label"].is_string());
    }
    let table = s.write("rtl.jsonl", "{\"text\": \"\u{05E9}\u{05DC}\u{05D5}\u{05DD}\", \"stance\": \"conciliatory\"}\n{\"text\": \"\u{05DE}\u{05DC}\u{05D7}\u{05DE}\u{05D4}\", \"stance\": \"accusatory\"}\n");
    train_works(&s, &table, &[]);
}

#[test]
fn a_very_long_article() {
    let s = Scratch::new();
    let paragraph = std::fs::read_to_string(ARTICLE).unwrap();
    let article = s.write("long.txt", paragraph.repeat(5_000));
    let output = stancekit()
        .args(["predict", "--format", "csv", "--model"])
        .arg(model())
        .arg(&article)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), 1 + 7 * 5_000);
}

#[test]
fn an_article_without_sentence_ending_punctuation() {
    let s = Scratch::new();
    let article = s.write("bare.txt", "talks resume in vienna\nthe envoy said they lied\n\nno deal yet");
    let (records, _) = predict_works(&[&article]);
    let texts: Vec<&str> = records.iter().map(|r| r["text"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["talks resume in vienna", "the envoy said they lied", "no deal yet"]);
}

#[test]
fn an_article_with_windows_line_ends() {
    let s = Scratch::new();
    let crlf = std::fs::read_to_string(ARTICLE).unwrap().replace('\n', "\r\n");
    let article = s.write("crlf.txt", crlf);
    let (records, _) = predict_works(&[&article]);
    let (unix, _) = predict_works(&[Path::new(ARTICLE)]);
    assert_eq!(records.len(), unix.len());
    for (a, b) in records.iter().zip(&unix) {
        assert_eq!(a["text"], b["text"]);
        assert_eq!(a["stance"], b["stance"]);
        assert!(!a["text"].as_str().unwrap().contains('\r'));
    }
}

#[test]
fn mixed_scripts_and_symbols_train_and_eval() {
    let s = Scratch::new();
    let data = s.write(
        "mixed.jsonl",
        "{\"id\": \"a\", \"text\": \"\u{00C9}tat d\u{00E9}nonce l\u{2019}attaque \u{1F621}\", \"stance\": \"accusatory\"}\n\
         {\"id\": \"b\", \"text\": \"\u{041C}\u{044B} \u{0433}\u{043E}\u{0442}\u{043E}\u{0432}\u{044B} \u{043A} \u{043F}\u{0435}\u{0440}\u{0435}\u{0433}\u{043E}\u{0432}\u{043E}\u{0440}\u{0430}\u{043C}\", \"stance\": \"conciliatory\"}\n\
         {\"id\": \"c\", \"text\": \"\u{4F1A}\u{8C08}\u{5C06}\u{4E8E}\u{5468}\u{4E00}\u{4E3E}\u{884C}\u{3002}\", \"stance\": \"neutral\"}\n\
         {\"id\": \"d\", \"text\": \"\u{1F91D} \u{00E9}tat\", \"stance\": \"conciliatory\"}\n",
    );
    train_works(&s, &data, &[]);
    stancekit()
        .args(["eval", "--model"])
        .arg(s.path("model.json"))
        .arg("--data")
        .arg(&data)
        .assert()
        .success();
}
