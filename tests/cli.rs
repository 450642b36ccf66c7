//! End-to-end tests of the `stancekit` binary: train -> predict -> eval on a small fixture,
//! determinism, output formats, exit codes and error messages.

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

mod common;

use common::{fails_with, stancekit, temporary_files};
use predicates::prelude::*;
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/small.csv";
const ARTICLE: &str = "tests/fixtures/article.txt";

/// Trains the fixture into `dir/name` and returns the model path.
fn train_into(dir: &Path, name: &str) -> PathBuf {
    let model = dir.join(name);
    stancekit()
        .args(["train", "--data", FIXTURE, "--label-column", "stance", "--label-column", "sentiment"])
        .args(["--min-df", "1", "--alpha", "0.1", "--output"])
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("head stance: 4 classes, 48 rows"))
        .stdout(predicate::str::contains("head sentiment: 3 classes, 48 rows"));
    model
}

fn jsonl(output: &[u8]) -> Vec<Value> {
    String::from_utf8(output.to_vec())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn train_writes_one_model_with_two_heads() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    let json: Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!(json["format"], "stancekit-model");
    assert_eq!(json["format_version"], 1);
    let heads: Vec<&str> = json["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(heads, vec!["stance", "sentiment"]);
    assert_eq!(json["training"]["rows"], 48);
    assert_eq!(json["training"]["data_file"], "small.csv");
    assert_eq!(json["training"]["data_sha256"].as_str().unwrap().len(), 64);
    // The model stores no training text.
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(!text.contains("blatant provocation staged"));
}

#[test]
fn lexicon_features_are_stored_explained_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let train = |name: &str| {
        let model = dir.path().join(name);
        stancekit()
            .args(["train", "--data", FIXTURE, "--label-column", "stance", "--label-column", "sentiment"])
            .args(["--min-df", "1", "--alpha", "0.1", "--lexicon-weight", "3", "--output"])
            .arg(&model)
            .assert()
            .success()
            .stdout(predicate::str::contains("lexicon weight 3"));
        model
    };
    let (first, second) = (train("a.json"), train("b.json"));
    let bytes = std::fs::read(&first).unwrap();
    assert!(bytes == std::fs::read(&second).unwrap(), "lexicon model bytes differ between two trainings");
    let json: Value = serde_json::from_slice(&bytes).unwrap();
    // Models with lexicon features are format 2, so that older builds refuse them clearly.
    assert_eq!(json["format_version"], 2);
    assert_eq!(json["features"]["settings"]["lexicon_weight"], 3.0);

    // A sentence whose only known word is "the": its tone can only come from the lexicon.
    let output = stancekit()
        .args(["predict", "--explain", "--top", "2", "--format", "jsonl", "--model"])
        .arg(&first)
        .write_stdin("The wonderful, excellent, delightful news.\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let record = &jsonl(&output)[0];
    assert_eq!(record["sentiment"]["label"], "positive");
    let terms: Vec<&str> = record["sentiment"]["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_str().unwrap())
        .collect();
    assert!(terms.iter().any(|t| t.starts_with("[lexicon: positive")), "{terms:?}");
    stancekit()
        .args(["explain", "--head", "sentiment", "--top", "5", "--model"])
        .arg(&first)
        .assert()
        .success()
        .stdout(predicate::str::contains("[lexicon: "));
}

#[test]
fn two_trainings_give_identical_model_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let first = std::fs::read(train_into(dir.path(), "a.json")).unwrap();
    let second = std::fs::read(train_into(dir.path(), "b.json")).unwrap();
    assert!(first == second, "model bytes differ between two identical trainings");
}

#[test]
fn binary_models_predict_like_json_ones_and_convert_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let json = train_into(dir.path(), "m.json");
    let binary = train_into(dir.path(), "m.bin");
    let json_bytes = std::fs::read(&json).unwrap();
    let binary_bytes = std::fs::read(&binary).unwrap();
    assert!(binary_bytes.starts_with(stancekit::model::BINARY_MAGIC));
    assert!(binary_bytes.len() < json_bytes.len());
    let predict = |model: &Path| {
        stancekit().args(["predict", "--format", "jsonl", "--model"]).arg(model).arg(ARTICLE).output().unwrap().stdout
    };
    assert_eq!(predict(&json), predict(&binary));
    // Converting gives the bytes that training in the other format gives, both ways.
    let converted = dir.path().join("converted.bin");
    stancekit()
        .arg("convert")
        .args([&json, &converted])
        .assert()
        .success()
        .stderr(predicate::str::contains("(binary,"));
    assert_eq!(std::fs::read(&converted).unwrap(), binary_bytes);
    let back = dir.path().join("back.json");
    stancekit().arg("convert").args([&converted, &back]).assert().success();
    assert_eq!(std::fs::read(&back).unwrap(), json_bytes);
    // A bad input names the file and leaves no output behind.
    let broken = dir.path().join("broken.bin");
    std::fs::write(&broken, &binary_bytes[..binary_bytes.len() / 2]).unwrap();
    let out = dir.path().join("out.json");
    fails_with(&["convert", broken.to_str().unwrap(), out.to_str().unwrap()], &["broken.bin", "is truncated"]);
    assert!(!out.exists());
}

#[test]
fn predict_labels_every_sentence_of_an_article_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    let output = stancekit()
        .args(["predict", "--format", "jsonl", "--model"])
        .arg(&model)
        .arg(ARTICLE)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let records = jsonl(&output);
    assert_eq!(records.len(), 7, "{records:#?}");
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["id"], format!("{ARTICLE}:{}", i + 1));
        for head in ["stance", "sentiment"] {
            let probabilities = record[head]["probabilities"].as_object().unwrap();
            let total: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
            assert!((total - 1.0).abs() < 1e-4, "{head} probabilities sum to {total}");
            let label = record[head]["label"].as_str().unwrap();
            let best = probabilities
                .iter()
                .max_by(|a, b| a.1.as_f64().partial_cmp(&b.1.as_f64()).unwrap())
                .unwrap()
                .0;
            assert_eq!(label, best);
        }
    }
    assert_eq!(records[0]["text"], "Ministers meet in Vienna as grain talks resume");
    assert_eq!(records[6]["text"], "Both sides agreed to meet again in May.");
}

#[test]
fn predict_echoes_ids_of_tabular_input_and_writes_csv() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"id\": \"x1\", \"text\": \"We accuse them of lying.\"}\n{\"text\": \"Talks resume in May.\"}\n").unwrap();
    let output = stancekit()
        .args(["predict", "--format", "csv", "--model"])
        .arg(&model)
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("id,text,stance,stance_p_accusatory,stance_p_conciliatory,stance_p_conditional,stance_p_neutral,sentiment,"));
    assert!(lines[1].starts_with("x1,We accuse them of lying.,"));
    assert!(lines[2].starts_with("2,Talks resume in May.,"));
}

#[test]
fn predict_output_is_the_same_for_any_number_of_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    let run = |jobs: &str| {
        stancekit()
            .args(["predict", "--format", "jsonl", "--jobs", jobs, "--model"])
            .arg(&model)
            .args([FIXTURE, ARTICLE])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let one = run("1");
    assert_eq!(jsonl(&one).len(), 48 + 7);
    assert_eq!(one, run("2"));
}

#[test]
fn a_table_of_several_chunks_streams_in_order_for_any_number_of_jobs() {
    // 10,000 rows: more than two chunks of 4,096, so reading, labeling and writing overlap.
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("many.csv");
    let mut text = String::from("id,text\n");
    let sentences = ["We are ready to talk.", "They lied to everyone.", "Talks resume in May if they stop.", "MOSCOW, June 17."];
    for i in 0..10_000 {
        text.push_str(&format!("r{i},\"{} ({i})\"\n", sentences[i % sentences.len()]));
    }
    std::fs::write(&table, &text).unwrap();
    let run = |jobs: &str| {
        stancekit().args(["predict", "--format", "csv", "--jobs", jobs]).arg(&table).assert().success().get_output().stdout.clone()
    };
    let one = run("1");
    let ids: Vec<String> = String::from_utf8(one.clone())
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(ids, (0..10_000).map(|i| format!("r{i}")).collect::<Vec<_>>());
    assert_eq!(one, run("2"));

    // A bad row in the third chunk: the rows before it are written, then a clear error.
    text.push_str("bad,\"never closed\n");
    std::fs::write(&table, &text).unwrap();
    let output = stancekit().args(["predict", "--format", "csv", "--jobs", "2"]).arg(&table).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("many.csv") && stderr.contains("line 10002") && !stderr.contains("panicked"), "{stderr}");
}

#[test]
fn predict_reads_standard_input_as_an_article() {
    stancekit()
        .args(["predict", "--format", "jsonl", "-"])
        .write_stdin("We are ready to talk. They lied to everyone.")
        .assert()
        .success()
        .stdout(predicate::str::contains("\"id\":\"<stdin>:2\""));
}

#[test]
fn predict_without_model_uses_the_shipped_one() {
    let output = stancekit()
        .args(["predict", "--format", "jsonl", ARTICLE])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let records = jsonl(&output);
    assert_eq!(records.len(), 7);
    assert!(records[0]["stance"]["label"].is_string());
    assert!(records[0]["sentiment"]["label"].is_string());
}

#[test]
fn predict_table_has_a_header_and_a_line_per_sentence() {
    let assert = stancekit().args(["predict", "--format", "table", ARTICLE]).assert().success();
    let text = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8);
    assert!(lines[0].starts_with("id"));
    assert!(lines[0].contains("stance") && lines[0].contains("sentiment"));
}

#[test]
fn eval_reports_every_head_and_the_gate_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    stancekit()
        .args(["eval", "--data", FIXTURE, "--model"])
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("== stance (48 rows"))
        .stdout(predicate::str::contains("== sentiment (48 rows"))
        .stdout(predicate::str::contains("macro avg"))
        .stdout(predicate::str::contains("confusion matrix"));

    let output = stancekit()
        .args(["eval", "--format", "json", "--data", FIXTURE, "--model"])
        .arg(&model)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&output).unwrap();
    let stance = &report["heads"]["stance"];
    assert_eq!(stance["rows"], 48);
    let confusion: u64 = stance["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert_eq!(confusion, 48);

    // Training data is learned well; a threshold above 1 is refused, one at 1.0 fails the gate
    // unless the head is perfect, so use a held-out article-style file with labels instead.
    let held_out = dir.path().join("held.csv");
    std::fs::write(
        &held_out,
        "text,stance,sentiment\nThe talks were held in Rome on Friday.,neutral,neutral\nThey accused the army of the massacre.,accusatory,negative\nWe will lift sanctions only if they withdraw.,conditional,neutral\nWe welcome the agreement warmly.,conciliatory,positive\n",
    )
    .unwrap();
    stancekit()
        .args(["eval", "--min-macro-f1", "0.0", "--data"])
        .arg(&held_out)
        .arg("--model")
        .arg(&model)
        .assert()
        .code(0);
    let assert = stancekit()
        .args(["eval", "--min-accuracy", "1.0", "--min-macro-f1", "1.0", "--data", FIXTURE, "--model"])
        .arg(&model)
        .arg("--data")
        .arg(dir.path().join("mismatch.csv"))
        .assert();
    // Two --data flags are a usage error (exit 2).
    assert.code(2);
}

#[test]
fn eval_gate_failure_exits_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    // Every label flipped to a wrong but known class: accuracy is far below 0.9.
    let wrong = dir.path().join("wrong.csv");
    std::fs::write(
        &wrong,
        "text,stance\nThe minister accused the neighbouring government of shelling border villages overnight.,conciliatory\n\"Our door remains open for consultations, the deputy foreign minister said.\",accusatory\n",
    )
    .unwrap();
    let assert = stancekit()
        .args(["eval", "--min-accuracy", "0.9", "--data"])
        .arg(&wrong)
        .arg("--model")
        .arg(&model)
        .assert()
        .code(1);
    assert!(stderr_of(&assert).contains("eval gate failed: stance accuracy"));
}

#[test]
fn eval_lists_labels_the_model_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    let data = dir.path().join("d.csv");
    std::fs::write(&data, "text,stance\nA sentence.,hostile\nAnother.,neutral\nThird.,friendly\n").unwrap();
    let assert = stancekit()
        .args(["eval", "--data"])
        .arg(&data)
        .arg("--model")
        .arg(&model)
        .assert()
        .code(2);
    let stderr = stderr_of(&assert);
    assert!(stderr.contains("'friendly' (line 4)"), "{stderr}");
    assert!(stderr.contains("'hostile' (line 2)"), "{stderr}");
    assert!(stderr.contains("accusatory, conciliatory, conditional, neutral"), "{stderr}");
}

#[test]
fn empty_labels_are_skipped_for_that_head_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("partial.csv");
    let mut text = std::fs::read_to_string(FIXTURE).unwrap();
    // Blank the sentiment of the first data row.
    text = text.replacen(",accusatory,negative\n", ",accusatory,\n", 1);
    std::fs::write(&data, text).unwrap();
    stancekit()
        .args(["train", "--min-df", "1", "--label-column", "stance", "--label-column", "sentiment", "--data"])
        .arg(&data)
        .arg("--output")
        .arg(dir.path().join("m.json"))
        .assert()
        .success()
        .stdout(predicate::str::contains("head stance: 4 classes, 48 rows;"))
        .stdout(predicate::str::contains("head sentiment: 3 classes, 47 rows (1 without a label skipped)"));
}

#[test]
fn bad_data_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    };
    let out = dir.path().join("m.json");
    let out = out.to_str().unwrap();
    let train = |data: &str| vec!["train", "--label-column", "stance", "--output", out, "--data"]
        .into_iter()
        .chain([data])
        .map(str::to_string)
        .collect::<Vec<_>>();

    let missing = dir.path().join("nope.csv");
    fails_with(&train(missing.to_str().unwrap()), &["nope.csv", "No such file"]);
    let empty = write("empty.csv", b"");
    fails_with(&train(&empty), &["empty.csv", "empty"]);
    let header_only = write("header.csv", b"text,stance\n");
    fails_with(&train(&header_only), &["header.csv", "no data rows"]);
    let no_label = write("nolabel.csv", b"text,sentiment\nHi,neutral\n");
    fails_with(&train(&no_label), &["nolabel.csv", "no label column 'stance'", "columns found: text, sentiment"]);
    let one_class = write("one.csv", b"text,stance\nA b,neutral\nA c,neutral\n");
    fails_with(&train(&one_class), &["stance", "at least two classes"]);
    let all_empty = write("allempty.csv", b"text,stance\nA b,\nA c,\n");
    fails_with(&train(&all_empty), &["stance", "empty in every row"]);
    let bad_utf8 = write("latin1.csv", b"text,stance\nA caf\xe9 b,neutral\n");
    fails_with(&train(&bad_utf8), &["latin1.csv line 2", "UTF-8"]);
    let broken_jsonl = write("broken.jsonl", b"{\"text\": \"a b\", \"stance\": \"x\"}\n{\"text\": \"a\n");
    fails_with(&train(&broken_jsonl), &["broken.jsonl line 2", "not valid JSON"]);
    let article = write("article.txt", b"Just text.");
    fails_with(&train(&article), &["article.txt", "not a CSV, TSV or JSONL"]);
    fails_with(&train(dir.path().to_str().unwrap()), &["is a directory"]);
    let mut negative_weight = train(FIXTURE);
    negative_weight.extend(["--lexicon-weight".to_string(), "-1".to_string()]);
    fails_with(&negative_weight, &["--lexicon-weight must be a positive number", "got -1"]);
    assert!(!Path::new(out).exists(), "no model is written by a failed run");
}

#[test]
fn bad_model_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(train_into(dir.path(), "good.json")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.json", Vec::new(), "is empty"),
        ("truncated.json", good[..good.len() / 2].to_vec(), "is truncated"),
        ("text.json", b"hello there".to_vec(), "not valid JSON"),
        ("foreign.json", b"{\"name\": \"fastText\", \"dim\": 100}".to_vec(), "no \"format\""),
        ("other.json", b"{\"format\": \"sklearn-pipeline\"}".to_vec(), "'sklearn-pipeline' file"),
        (
            "newer.json",
            String::from_utf8(good.clone())
                .unwrap()
                .replacen("\"format_version\":1", "\"format_version\":99", 1)
                .into_bytes(),
            "format version 99",
        ),
    ];
    for (name, bytes, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        fails_with(&["predict", "--model", path.to_str().unwrap(), ARTICLE], &[name, needle]);
    }
    fails_with(&["predict", "--model", dir.path().to_str().unwrap(), ARTICLE], &["is a directory"]);
}

#[test]
fn a_failed_training_leaves_the_previous_model_intact() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    let before = std::fs::read(&model).unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, b"text,stance\nA,x\nB,y\nC\n").unwrap();
    stancekit()
        .args(["train", "--label-column", "stance", "--data"])
        .arg(&bad)
        .arg("--output")
        .arg(&model)
        .assert()
        .code(2);
    assert_eq!(std::fs::read(&model).unwrap(), before);
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
}

#[test]
fn output_equal_to_input_is_refused() {
    fails_with(
        &["train", "--label-column", "stance", "--data", FIXTURE, "--output", FIXTURE],
        &["is the training file itself"],
    );
}

#[test]
fn settings_are_checked_before_work_starts() {
    fails_with(
        &["train", "--label-column", "stance", "--data", FIXTURE, "--output", "/tmp/never.json", "--alpha=-1"],
        &["--alpha must be a positive number"],
    );
    fails_with(
        &["train", "--label-column", "stance", "--data", FIXTURE, "--output", "/tmp/never.json", "--word-ngrams", "3-1"],
        &["n-gram range 3-1 is invalid"],
    );
    fails_with(&["predict", "--jobs", "0", ARTICLE], &["--jobs must be at least 1"]);
    fails_with(&["predict", "missing-article.txt"], &["missing-article.txt", "does not exist"]);
}

#[test]
fn unwritable_output_is_an_error_naming_the_path() {
    fails_with(
        &["train", "--label-column", "stance", "--data", FIXTURE, "--min-df", "1", "--output", "/nonexistent-dir/m.json"],
        &["/nonexistent-dir/m.json"],
    );
}

#[test]
fn a_closed_pipe_ends_predict_quietly() {
    // A long input, and a reader that goes away after the first bytes.
    let dir = tempfile::tempdir().unwrap();
    let article = dir.path().join("long.txt");
    std::fs::write(&article, "We are ready to talk if they stop. ".repeat(50_000)).unwrap();
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("stancekit"))
        .args(["predict", "--format", "jsonl"])
        .arg(&article)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn predict_explain_adds_terms_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    let run = |format: &str| {
        let output = stancekit()
            .args(["predict", "--explain", "--top", "2", "--format", format, "--model"])
            .arg(&model)
            .arg(ARTICLE)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(output).unwrap()
    };
    let records = jsonl(run("jsonl").as_bytes());
    let terms = records[4]["stance"]["terms"].as_array().unwrap();
    assert!(!terms.is_empty() && terms.len() <= 2);
    assert!(terms[0]["contribution"].as_f64().unwrap() > 0.0);
    let csv = run("csv");
    assert!(csv.lines().next().unwrap().contains(",stance_terms,"));
    let table = run("table");
    assert!(table.contains("why stance="), "{table}");
}

#[test]
fn explain_lists_terms_per_class() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_into(dir.path(), "m.json");
    let output = stancekit()
        .args(["explain", "--top", "3", "--format", "json", "--model"])
        .arg(&model)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let document: Value = serde_json::from_slice(&output).unwrap();
    let conditional = &document["stance"]["conditional"]["positive"];
    assert_eq!(conditional.as_array().unwrap().len(), 3);
    stancekit()
        .args(["explain", "--head", "stance", "--model"])
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("== stance"))
        .stdout(predicate::str::contains("conditional (intercept"));
    fails_with(&["explain", "--head", "topic"], &["no such head", "stance, sentiment"]);
}

#[test]
fn cross_validation_reports_mean_and_std_and_writes_plots() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let output = stancekit()
        .args(["eval", "--cv", "3", "--format", "json", "--min-df", "1", "--data", FIXTURE])
        .args(["--label-column", "stance", "--label-column", "sentiment", "--plot"])
        .arg(&plots)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let document: Value = serde_json::from_slice(&output).unwrap();
    let heads = document["cv"]["heads"].as_array().unwrap();
    assert_eq!(heads.len(), 2);
    let stance = &heads[0];
    assert_eq!(stance["head"], "stance");
    assert_eq!(stance["folds"].as_array().unwrap().len(), 3);
    // The pooled confusion matrix counts every row once.
    let pooled: u64 = stance["pooled"]["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert_eq!(pooled, 48);
    let mean = stance["accuracy"]["mean"].as_f64().unwrap();
    let folds: Vec<f64> = stance["folds"].as_array().unwrap().iter().map(|f| f["accuracy"].as_f64().unwrap()).collect();
    assert!((mean - folds.iter().sum::<f64>() / 3.0).abs() < 1e-12);
    for file in ["stance-confusion.svg", "stance-reliability.svg", "sentiment-confusion.svg", "sentiment-reliability.svg"] {
        let svg = std::fs::read_to_string(plots.join(file)).unwrap();
        assert!(svg.starts_with("<svg"), "{file}");
    }
    // Same seed, same folds, same result.
    let again = stancekit()
        .args(["eval", "--cv", "3", "--format", "json", "--min-df", "1", "--data", FIXTURE])
        .args(["--label-column", "stance", "--label-column", "sentiment"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let again: Value = serde_json::from_slice(&again).unwrap();
    assert_eq!(again["cv"], document["cv"]);
}

#[test]
fn search_picks_the_best_alpha_and_stores_the_table_in_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("searched.json");
    stancekit()
        .args(["train", "--search", "--search-alphas", "0.1,10", "--search-folds", "3", "--min-df", "1"])
        .args(["--search-lexicon-weights", "0,2"])
        .args(["--data", FIXTURE, "--label-column", "stance", "--output"])
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("3-fold search by macro-f1"))
        .stdout(predicate::str::contains("lexicon"))
        .stdout(predicate::str::contains("<- chosen"));
    let json: Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
    let search = &json["training"]["search"];
    let rows = search["rows"].as_array().unwrap();
    // Two alphas for each of: no lexicon, lexicon weight 2.
    assert_eq!(rows.len(), 4);
    assert_eq!(rows.iter().filter(|r| r["lexicon_weight"] == 2.0).count(), 2);
    let chosen = search["chosen"].as_u64().unwrap() as usize;
    let best = rows
        .iter()
        .map(|r| r["score"]["mean"].as_f64().unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(rows[chosen]["score"]["mean"].as_f64().unwrap(), best);
    // The model is trained with the chosen alpha.
    assert_eq!(json["training"]["settings"]["classifier"]["alpha"], rows[chosen]["alpha"]);
    assert_eq!(json["features"]["settings"]["lexicon_weight"], rows[chosen]["lexicon_weight"]);
    fails_with(
        &["train", "--search", "--metric", "f1-avg:FAVOR", "--data", FIXTURE, "--label-column", "stance", "--output", "/tmp/never.json"],
        &["head 'stance' has no class 'FAVOR'"],
    );
}

#[test]
fn eval_json_includes_calibration() {
    let output = stancekit()
        .args(["eval", "--format", "json", "--data", FIXTURE])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&output).unwrap();
    let calibration = &report["heads"]["stance"]["calibration"];
    let ece = calibration["expected_calibration_error"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ece));
    assert_eq!(calibration["bins"].as_array().unwrap().len(), 10);
}
